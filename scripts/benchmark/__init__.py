"""fusectl's benchmarks, one package with one entry point: `scripts/bench [stream|npyio|kernels] [options]`.

Modules: main (W1-W5 against the peers), workloads (their sizes and files), fusectl (finding and
timing the binary), torch_side and torch_fuse (the PyTorch peer), onnx_export (the reference as
one ONNX graph) and peers (ONNX Runtime and OpenVINO running it), peak with peak.c and
bandwidth.c (the FMA peak, the memory bandwidth), spawn.c (the launcher that measures a run's
own peak RSS), cc (compiling the C helpers), report (targets and the table), rss (--rss-4096),
stream (`fusectl stream` against a PyTorch agent loop), npyio (NpyIO against numpy and cat),
kernels.sh (the kernels-bench product). Imports go one way: main -> rss -> fusectl -> cc,
main -> peers, main -> onnx_export; everything may import the `reference` package, never the
reverse. The peers' Python packages are pinned in requirements.txt.
"""
