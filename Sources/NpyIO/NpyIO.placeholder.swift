// The .npy/.npz library; see NpyArray.swift.
