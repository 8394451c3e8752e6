# The GPU run kit: run the whole book on a CUDA machine and write a report (tools/gpu_run.py).
#   make gpu-wheels  -> here, online: the wheels a GPU machine without network lacks, in .gpu-wheels/
#   make gpu-run     -> there (or anywhere): installs the wheels it lacks, runs every notebook,
#                       writes _build/gpu-run/report.md, report.json and the executed notebooks
# gpu-run does not depend on `install`: a GPU machine brings its own Python and CUDA torch, so
# it runs with that interpreter (the venv's, where there is one) and the checkout's `helpers`.
.PHONY: gpu-wheels gpu-run

GPU_WHEELS ?= .gpu-wheels
GPU_SITE   ?= _build/gpu-site
GPU_OUT    ?= _build/gpu-run
GPU_PY     ?= $(if $(wildcard $(PY)),$(PY),python3)
# More options of tools/gpu_run.py, e.g. GPU_ARGS="--jobs 4 --online" or notebook paths.
GPU_ARGS   ?=

gpu-wheels: install
	@exclude=$$(git rev-parse --git-path info/exclude) && mkdir -p $$(dirname $$exclude) && \
	  { grep -qxF '/$(GPU_WHEELS)/' $$exclude 2>/dev/null || echo '/$(GPU_WHEELS)/' >> $$exclude; }
	$(PY) -m tools.gpu_wheels download $(GPU_WHEELS)

gpu-run:
	$(GPU_PY) -m tools.gpu_run $(if $(wildcard $(GPU_WHEELS)/*.whl),--wheels $(GPU_WHEELS) --site $(GPU_SITE)) \
	  --out $(GPU_OUT) $(GPU_ARGS)

# What the guarded cells printed in a kit run (RUN=<its --out folder>), into book/_gpu_outputs.json:
# the pages show it under each cell (tools/gpu_outputs.py). `make gpu-run` on a GPU does this itself.
.PHONY: gpu-outputs
gpu-outputs: install
	@test -n "$(RUN)" || { echo "usage: make gpu-outputs RUN=<folder written by make gpu-run>"; exit 2; }
	$(PY) -m tools.gpu_outputs import "$(RUN)"
