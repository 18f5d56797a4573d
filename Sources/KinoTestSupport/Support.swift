import KinoMedia
