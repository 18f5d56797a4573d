import Dispatch
import Foundation
import Glibc

/// inotify events of a directory tree, delivered on a Dispatch queue.
///
/// Watches for `IN_CLOSE_WRITE` (a writer closed the file) and `IN_MOVED_TO` (a file was renamed
/// or moved in — the safe way writers publish), plus new sub-directories when recursive. An
/// event is only a hint that a path may be ready: ``FileSettler`` still checks size, mtime and
/// open writers. Queue overflow (`IN_Q_OVERFLOW`) is reported so the caller can rescan.
/// inotify sees local writes only; on NFS/CIFS the periodic rescan is what finds files.
final class DirectoryEvents: @unchecked Sendable {
    /// What happened.
    enum Change: Sendable, Equatable {
        /// A file was closed after writing, or moved in.
        case file(String)
        /// A directory appeared (created or moved in); its contents need a scan.
        case directory(String)
        /// Events were lost; everything needs a rescan.
        case overflow
        /// A file or directory whose name is not valid UTF-8 appeared in `directory`.
        case undecodable(directory: String, name: [UInt8])
    }

    private let fd: Int32
    private let recursive: Bool
    private let isExcluded: @Sendable (String) -> Bool
    private var directories: [Int32: String] = [:]
    private var source: (any DispatchSourceRead)?
    private let queue: DispatchQueue
    private let handler: @Sendable (Change) -> Void

    /// Starts watching `root` (and, when `recursive`, every sub-directory not excluded).
    /// - Parameters:
    ///   - queue: where `handler` runs; the caller's serial queue.
    ///   - isExcluded: directories for which no watch is added (the output folder, hidden ones).
    /// - Throws: ``WatchError/inotify(path:operation:message:)``.
    init(root: String, recursive: Bool, queue: DispatchQueue, isExcluded: @escaping @Sendable (String) -> Bool,
         handler: @escaping @Sendable (Change) -> Void) throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw WatchError.inotify(path: root, operation: "inotify_init1", message: Self.errnoText()) }
        self.recursive = recursive
        self.isExcluded = isExcluded
        self.queue = queue
        self.handler = handler
        try queue.sync { try add(root) }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.drain() }
        source.setCancelHandler { [fd] in close(fd) }
        source.resume()
        self.source = source
    }

    /// Stops watching and closes the descriptor.
    func cancel() {
        source?.cancel()
        source = nil
    }

    /// Adds a watch on `directory` and, when recursive, on its sub-directories. Must run on `queue`.
    private func add(_ directory: String) throws {
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW)
        let wd = inotify_add_watch(fd, directory, mask)
        guard wd >= 0 else {
            throw WatchError.inotify(path: directory, operation: "inotify_add_watch", message: Self.errnoText())
        }
        directories[wd] = directory
        guard recursive else { return }
        // Links are never followed: a link to the root (or above it) would otherwise be
        // watched, and scanned, again and again.
        for name in (try? DirectoryListing.names(in: directory)) ?? [] {
            guard let name = DirectoryListing.text(name) else { continue }   // the scan warns about it
            let path = "\(directory)/\(name)"
            if DirectoryListing.kind(of: path) == .directory, !isExcluded(path) {
                try? add(path)
            }
        }
    }

    /// Reads every pending event and reports them.
    private func drain() {
        let capacity = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, capacity) }
            guard count > 0 else { return }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameBytes = raw[(offset + header)..<(offset + header + Int(event.len))]
                    let bytes = Array(nameBytes.prefix { $0 != 0 })
                    offset += header + Int(event.len)
                    if let name = DirectoryListing.text(bytes) {
                        handle(event, name: name)
                    } else if let directory = directories[event.wd],
                              event.mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) != 0 {
                        handler(.undecodable(directory: directory, name: bytes))
                    }
                }
            }
        }
    }

    private func handle(_ event: inotify_event, name: String) {
        if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { handler(.overflow); return }
        if event.mask & UInt32(IN_IGNORED) != 0 { directories[event.wd] = nil; return }
        guard let directory = directories[event.wd], !name.isEmpty else { return }
        let path = "\(directory)/\(name)"
        if event.mask & UInt32(IN_ISDIR) != 0 {
            guard recursive, event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, !isExcluded(path) else { return }
            try? add(path)
            handler(.directory(path))
        } else if event.mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
            handler(.file(path))
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
