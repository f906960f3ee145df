import FusionKernels

/// The machine's active processor count, read once: the CPUs this process may run on (its affinity
/// mask), else the online processors (`fk_cpu_active_count`).
enum ProcessInfoCores {
    static let active: Int = Int(fk_cpu_active_count())
}
