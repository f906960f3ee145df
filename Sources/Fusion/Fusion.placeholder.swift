// The fusion model; see FusionModel.swift.
