import Foundation

/// A one-line progress display on stderr: layers done and bytes read of the total.
public final class ScanProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var layers = 0, layersDone = 0
    private var total: Int64 = 0, done: Int64 = 0
    private var running = false
    private var thread: Thread?
    private let label: String

    public init(label: String) { self.label = label }

    func begin(layers: Int, bytes: Int64) {
        lock.lock()
        self.layers = layers
        total = bytes
        running = true
        lock.unlock()
        let t = Thread { [weak self] in
            while let s = self, s.isRunning {
                s.draw()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        thread = t
        t.start()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    func add(_ n: Int) {
        lock.lock()
        done += Int64(n)
        lock.unlock()
    }

    func layerDone() {
        lock.lock()
        layersDone += 1
        lock.unlock()
    }

    private func draw() {
        lock.lock()
        let line = "\(label): \(layersDone)/\(layers) layers  \(byteCount(min(done, total))) / \(byteCount(total))"
        lock.unlock()
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func end() {
        lock.lock()
        running = false
        lock.unlock()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
