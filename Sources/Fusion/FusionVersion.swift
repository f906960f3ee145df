/// The version of fusectl this library belongs to: what `fusectl --version` prints and what every
/// output's record names. Raise it with every change users can see, and with every change of the bits
/// an output gets (a record made by another version is recomputed on resume).
public enum FusionVersion {
    public static let current = "0.13.0"
}
