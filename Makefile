# SaltiNet reproduction. `make test` and `make demo` are the two entry points.
PY      := .venv/bin/python
VENV    := .venv/.installed

.PHONY: venv test lint bench clean

venv: $(VENV)

$(VENV): requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -r requirements.txt
	touch $(VENV)

test: $(VENV)
	$(PY) -m ruff check .
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

lint: $(VENV)
	$(PY) -m ruff check .

clean:
	rm -rf .pytest_cache .ruff_cache
