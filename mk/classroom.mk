# Classroom autograding (tools/classroom/). The course folder defaults to classroom/.
#   make assignments                       -> classroom/release/NN_name/NN_name.ipynb for every chapter
#   make assignments CHAPTERS=03_autograd  -> one chapter
#   make grade SUBMISSIONS=<folder>        -> classroom/grades.csv and classroom/reports/<student>.md
#   make grade ... FORCE=1                 -> grade every submission again, changed or not
#   make grade ... UNSANDBOXED=1           -> run students' code without the bubblewrap sandbox
#   make grade-deps                        -> install bubblewrap (apt-get) when it is missing
#   make bench-grade                       -> seconds per submission for 40 simulated students
COURSE           ?= classroom
CHAPTERS         ?=
CELL_TIMEOUT     ?= 60
NOTEBOOK_TIMEOUT ?= 600
JOBS             ?= 0
BENCH_CHAPTER    ?= 03_autograd
BENCH_STUDENTS   ?= 40

.PHONY: assignments grade grade-deps bench-grade

assignments: install
	$(PY) -m tools.classroom.assignments --course $(COURSE) $(CHAPTERS)

grade-deps:
	@command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }

grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of submissions>"; exit 2; }
	@test -d "$(COURSE)/release" || { echo "no $(COURSE)/release: run 'make assignments' first"; exit 2; }
	$(PY) -m tools.classroom.grade "$(SUBMISSIONS)" --course $(COURSE) --jobs $(JOBS) \
	  --cell-timeout $(CELL_TIMEOUT) --notebook-timeout $(NOTEBOOK_TIMEOUT) \
	  $(if $(FORCE),--force) $(if $(UNSANDBOXED),--unsandboxed)

bench-grade: install grade-deps
	$(PY) -m tools.classroom.bench --chapter $(BENCH_CHAPTER) --students $(BENCH_STUDENTS) --jobs $(JOBS)
