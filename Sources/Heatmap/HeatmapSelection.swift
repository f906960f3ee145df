/// Which block and head a per-step heatmap shows.
public enum HeatmapSelection: Equatable {
    /// One block's head (both 0-based).
    case block(Int, head: Int)
    /// The mean over all N blocks × H heads.
    case average
}
