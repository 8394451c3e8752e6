# PyTorch in Practice: every command does its own set-up on a fresh machine.
#   make book   -> builds the HTML book into _build/html (open _build/html/index.html)
#   make test   -> runs every quality gate (what CI runs)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
JB     := $(VENV)/bin/jupyter-book

.PHONY: install laptop-profile browser-deps book test test-fast lint nbval nbval-perturbed nbval-laptop colab-check build \
        browser exercises outputs setup-cells student lock clean

# Notebooks to check (a folder or files): `make nbval NB=book/06_training.ipynb` checks one chapter.
NB     ?= book
# Two notebooks at a time, each in its own kernel; --dist loadscope keeps a notebook's cells together.
# tools/nbval_retry.py keeps each kernel's stderr in _build/kernel-logs/ and starts a kernel that
# died before running anything once more (a failing cell is never retried).
XDIST  ?= -n 2 --dist loadscope
NBVAL  := $(PY) -m pytest -p tools.nbval_retry --nbval --nbval-sanitize-with nbval_sanitize.cfg \
          --nbval-cell-timeout=600 -q $(XDIST)
# Another CPU's numerics on this one: generic ATen kernels, MKL's compatible code path, oneDNN
# limited to SSE4.1, one thread. A compared output that depends on the CPU fails here, not on a
# reader's machine.
PERTURB := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=SSE41 OMP_NUM_THREADS=1

install: $(STAMP)

# Exact versions from constraints.txt, so stored outputs and CI agree. A fresh clone links .venv
# to an environment cached by the hash of what it installs (tools/venv.py); a .venv folder made
# by hand is updated in place.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml tools/venv.py
	python3 tools/venv.py $(VENV)
	touch $@

# Debian's Chromium and ChromeDriver for the browser test (no browser download needed), and a
# CJK font so the screenshots of the glossary show its Chinese terms.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list | grep -qi wenquanyi || \
	  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei >/dev/null; }

# An incremental build with no page changed copies no static file, so an edited
# book/_static/book.css would not reach the pages: when a built copy differs from its source,
# every page is rebuilt (--all).
STATIC_CHANGED = $(foreach f,$(wildcard book/_static/*),$(shell [ -d _build/html ] && \
  ! cmp -s $(f) _build/html/_static/$(notdir $(f)) && echo $(f)))

book: install
	$(JB) build . -W -n --keep-going $(if $(STATIC_CHANGED),--all)
	@echo "Open _build/html/index.html in a browser."

build: book

lint: install workflows-lint
	$(VENV)/bin/ruff check helpers tests tools book
	$(VENV)/bin/ruff format --check helpers tests tools
	$(VENV)/bin/ruff format --check --line-length 88 book  # what the page shows (CONTRIBUTING.md)

test-fast: install
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/exercises -q -n 2 --dist loadfile

# Each exercise's self-check accepts another correct answer and rejects a plausible wrong one
# (tests/exercises/<chapter>.yml; the chapters run with the probes added: tools/fairness.py, and
# the pitfalls appendix runs plain), in this environment. `make test` runs the same tests in the
# Colab-like one (colab-check).
exercises: install
	$(PY) -m pytest tests/exercises -q -n 2

nbval: install
	$(NBVAL) $(NB)

# Another reader's machine, in one pass: the same strict comparison under another CPU's numerics
# (see PERTURB above), on a laptop: DataLoader workers started by `spawn` (macOS, Windows) and
# torch faking a CPU-only build (tools/laptop_startup.py). Inductor's kernel cache is its own:
# C++ compiled for this CPU's vector ISA fails to build when reused under the generic ATen
# capability ("'at::vec' has not been declared"), which no single reader's machine does.
LAPTOP_IPYTHON := $(CURDIR)/_build/ipython-laptop
laptop-profile:
	rm -rf $(LAPTOP_IPYTHON) && mkdir -p $(LAPTOP_IPYTHON)/profile_default/startup
	cp tools/laptop_startup.py $(LAPTOP_IPYTHON)/profile_default/startup/00-laptop.py

nbval-perturbed: install laptop-profile
	env $(PERTURB) IPYTHONDIR=$(LAPTOP_IPYTHON) TORCHINDUCTOR_CACHE_DIR=$(CURDIR)/_build/inductor-perturbed \
	  $(NBVAL) $(NB)

# The laptop alone, outputs not compared (lax), on this CPU.
nbval-laptop: install laptop-profile
	IPYTHONDIR=$(LAPTOP_IPYTHON) $(NBVAL:--nbval=--nbval-lax) $(NB)

# The other end of the supported range, as in Colab: Python 3.12, torch 2.9.1, TensorFlow and
# its older protobuf preinstalled; runs the Colab set-up cell twice (it must change none of those
# packages), then every notebook in lax mode (tools/colab_check.py, in _build/venv-colab).
colab-check: install
	$(PY) -m tools.colab_check $(filter-out book,$(NB))

browser: install browser-deps
	$(PY) -m pytest tests/browser -q

# Every quality gate, stage by stage (tools/stages.py): it prints a table of the stages and their
# seconds, also kept in _build/stages.md, and overlaps the Colab image's download with the tests.
test:
	python3 -m tools.stages

outputs: install
	$(PY) -m tools.execute

setup-cells: install
	$(PY) -m tools.setup_cells

student: install
	$(PY) -m tools.student student
	@echo "Student copies (no solutions, no outputs) are in student/."

# Re-pin constraints.txt from the current venv (after changing requirements).
lock: install
	$(PIP) freeze --exclude-editable | grep -v '^pytorch-in-practice' > constraints.txt

clean:
	rm -rf _build student

# Larger features keep their targets in mk/*.mk (classroom, publishing, GPU run kit).
include $(wildcard mk/*.mk)
