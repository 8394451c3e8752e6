# Classroom autograding with nbgrader (tools/classroom/). The course folder defaults to classroom/.
#   make assignments                       -> classroom/release/NN_name/NN_name.ipynb for every chapter
#   make assignments CHAPTERS=03_autograd  -> one chapter
#   make grade SUBMISSIONS=<folder>        -> classroom/grades.csv and classroom/reports/<student>.md
COURSE           ?= classroom
CHAPTERS         ?=
CELL_TIMEOUT     ?= 60
NOTEBOOK_TIMEOUT ?= 600

.PHONY: assignments grade

assignments: install
	$(PY) -m tools.classroom.assignments --course $(COURSE) $(CHAPTERS)

grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of submissions>"; exit 2; }
	@test -d "$(COURSE)/release" || { echo "no $(COURSE)/release: run 'make assignments' first"; exit 2; }
	$(PY) -m tools.classroom.grade "$(SUBMISSIONS)" --course $(COURSE) \
	  --cell-timeout $(CELL_TIMEOUT) --notebook-timeout $(NOTEBOOK_TIMEOUT) $(if $(FORCE),--force)
