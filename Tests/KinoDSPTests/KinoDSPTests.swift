import Testing
@testable import KinoDSP

@Suite struct KinoDSPVersionTests {
    @Test func versionIsSemantic() {
        #expect(KinoDSP.version.split(separator: ".").count == 3)
    }
}
