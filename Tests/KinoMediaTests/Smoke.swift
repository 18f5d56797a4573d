import Testing
@testable import KinoMedia
