import FusionKernels
import Testing

extension KernelsSuite {
    @Suite struct CPULevelTests {
        @Test("the detected path is named, can be lowered and comes back")
        func levels() {
            let detected = fk_cpu_detected()
            #expect(["scalar", "avx2", "avx512"].contains(name(detected)))
            #expect(fk_cpu_set_level(FK_CPU_SCALAR) == FK_CPU_SCALAR)
            #expect(fk_cpu_level_current() == FK_CPU_SCALAR)
            #expect(fk_cpu_set_level(FK_CPU_AVX512) == detected, "cannot go above the detected level")
            #expect(fk_cpu_level_current() == detected)
            #expect(name(fk_cpu_level(rawValue: 9)) == "unknown")
        }
    }
}
