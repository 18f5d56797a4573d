#ifndef KINO_CFFMPEG_SHIM_H
#define KINO_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/display.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/tx.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

/* Macros Swift cannot import, as functions. */
static inline int kino_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int kino_averror_eof(void) { return AVERROR_EOF; }
static inline int kino_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t kino_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int kino_av_time_base(void) { return AV_TIME_BASE; }
static inline int kino_pkt_flag_key(void) { return AV_PKT_FLAG_KEY; }
static inline int kino_pkt_flag_discard(void) { return AV_PKT_FLAG_DISCARD; }
static inline int kino_pkt_flag_corrupt(void) { return AV_PKT_FLAG_CORRUPT; }
static inline int kino_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
static inline int kino_fmt_globalheader(void) { return AVFMT_GLOBALHEADER; }
static inline int kino_fmt_nofile(void) { return AVFMT_NOFILE; }
static inline int kino_avio_flag_write(void) { return AVIO_FLAG_WRITE; }
static inline int kino_seek_flag_backward(void) { return AVSEEK_FLAG_BACKWARD; }
static inline int kino_frame_flag_corrupt(void) { return AV_FRAME_FLAG_CORRUPT; }
#endif
