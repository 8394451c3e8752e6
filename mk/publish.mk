# Publishing: workflow lint, drift watch and the PDF edition (issue 18). Included by the Makefile.
#   make workflows-lint -> actionlint over .github/workflows/*.yml
#   make drift          -> every notebook (nbval, lax) on the newest torch/torchvision pip offers
#   make pdf            -> _build/latex/pytorch-in-practice.pdf, checked for every chapter
#   make site           -> the HTML book with the checked PDF in it (what pages.yml publishes)
.PHONY: workflows-lint drift pdf pdf-deps site

# actionlint from the package index (a wheel with the binary inside; see requirements-dev.txt).
ACTIONLINT ?= $(VENV)/bin/actionlint

workflows-lint: install
	$(ACTIONLINT) -no-color .github/workflows/*.yml

# The drift venv lives outside the repository (a venv inside it would be scanned by the book
# build) and is made fresh each time, like a new reader's: newest torch, torchvision and every
# other requirement, without constraints.txt. DRIFT_PIP_ARGS adds pip options (the weekly
# workflow uses PyTorch's CPU wheel index); DRIFT_PYTEST_ARGS, pytest options.
DRIFT_VENV        ?= $(HOME)/.cache/pytorch-in-practice/drift-venv
DRIFT_PIP_ARGS    ?=
DRIFT_PYTEST_ARGS ?= -n 2 --dist loadscope

drift:
	rm -rf $(DRIFT_VENV)
	python3 -m venv $(DRIFT_VENV)
	$(DRIFT_VENV)/bin/python -m pip install -q --upgrade --upgrade-strategy eager $(DRIFT_PIP_ARGS) \
	  torch torchvision -r requirements-dev.txt
	$(DRIFT_VENV)/bin/python -m tools.drift run --pytest-args "$(DRIFT_PYTEST_ARGS)"

# XeLaTeX (the glossary's Chinese terms need xeCJK) and the fonts, all Debian packages.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                texlive-lang-chinese latexmk fonts-freefont-otf tex-gyre fonts-wqy-zenhei poppler-utils

# Installing them needs root (apt-get): as root they are installed when missing; otherwise the
# target names the command to run and stops.
pdf-deps:
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null && \
	  kpsewhich xeCJK.sty >/dev/null && fc-list | grep -qi wenquanyi || \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	  else \
	    echo "make pdf needs Debian's TeX packages, and installing them needs root. Run:" >&2; \
	    echo "  sudo apt-get install --no-install-recommends $(TEX_PACKAGES)" >&2; \
	    exit 1; \
	  fi

# The PDF build executes nothing (pages show the stored outputs), so it needs only Jupyter Book
# and its extensions: the book's .venv when there is one, else a small venv of its own (about
# 300 MB, outside the repository, which the book build would scan) instead of the 6.5 GB torch
# environment.
PDF_VENV ?= $(if $(wildcard $(VENV)/bin/jupyter-book),$(VENV),$(HOME)/.cache/pytorch-in-practice/pdf-venv)
PDF_PKGS := $(shell grep -E '^(jupyter-book|sphinx-|nbformat|pyyaml)' requirements-dev.txt)

$(PDF_VENV)/bin/jupyter-book:
	python3 -m venv $(PDF_VENV)
	$(PDF_VENV)/bin/python -m pip install -q -c constraints.txt $(foreach p,$(PDF_PKGS),'$(p)')

# About 1 minute here once TeX is installed (3 on a busy machine); not part of `make test`.
pdf: pdf-deps $(PDF_VENV)/bin/jupyter-book
	$(PDF_VENV)/bin/python -m tools.pdfcheck --parts _build/latex/bookparts.def
	$(PDF_VENV)/bin/jupyter-book build . --builder pdflatex -W -n --keep-going
	$(PDF_VENV)/bin/python -m tools.pdfcheck _build/latex/pytorch-in-practice.pdf

# The published site: the HTML book, and the PDF edition beside it at pytorch-in-practice.pdf.
# The Pages workflow runs this (as root in its container, so pdf-deps can install TeX); the PDF
# check is not part of `make test`, which must stay under 15 minutes without TeX.
site: book pdf
	cp _build/latex/pytorch-in-practice.pdf _build/html/pytorch-in-practice.pdf
	@echo "The site is in _build/html (the PDF edition: _build/html/pytorch-in-practice.pdf)."
