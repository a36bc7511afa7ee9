# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := .demo

.PHONY: demo demo-two demo-four test test-fast lint clean sample-data

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The whole job on sample_data/four.csv: image, text, audio and a number, the label (16
# classes) needing all four. evaluate prints what each modality contributes. The defaults
# (late fusion with each modality's auxiliary head, issue 16) keep every modality in use.
demo: $(STAMP)
	rm -rf $(DEMO)/four && mkdir -p $(DEMO)/four
	$(VENV)/bin/mmcli preprocess sample_data/four.csv --out $(DEMO)/four/prepared > $(DEMO)/four/preprocess.json
	$(VENV)/bin/mmcli train $(DEMO)/four/prepared --out $(DEMO)/four/bundle --seed 0
	$(VENV)/bin/mmcli evaluate $(DEMO)/four/bundle $(DEMO)/four/prepared > $(DEMO)/four/metrics.json
	$(VENV)/bin/mmcli predict $(DEMO)/four/bundle sample_data/four.csv --format jsonl --out $(DEMO)/four/predictions.jsonl
	@echo "--- metrics on the test split ($(DEMO)/four/metrics.json) ---"
	@$(PY) -c "import json; m = json.load(open('$(DEMO)/four/metrics.json')); print(json.dumps({k: m[k] for k in ('accuracy', 'modalities', 'modality_contribution', 'fusion_weights')}, indent=2))"
	@echo "--- first predictions ($(DEMO)/four/predictions.jsonl) ---"
	@head -n 2 $(DEMO)/four/predictions.jsonl

# The image + text sample (sample_data/data.csv), as the demo was before the four-modality table.
demo-two: $(STAMP)
	rm -rf $(DEMO)/two && mkdir -p $(DEMO)/two
	$(VENV)/bin/mmcli preprocess sample_data/data.csv --out $(DEMO)/two/prepared > $(DEMO)/two/preprocess.json
	$(VENV)/bin/mmcli train $(DEMO)/two/prepared --out $(DEMO)/two/bundle --seed 0
	$(VENV)/bin/mmcli evaluate $(DEMO)/two/bundle $(DEMO)/two/prepared > $(DEMO)/two/metrics.json
	$(VENV)/bin/mmcli predict $(DEMO)/two/bundle sample_data/data.csv --format jsonl --out $(DEMO)/two/predictions.jsonl
	@echo "--- metrics on the test split ($(DEMO)/two/metrics.json) ---"
	@$(PY) -c "import json; m = json.load(open('$(DEMO)/two/metrics.json')); print(json.dumps({k: m[k] for k in ('accuracy', 'macro_f1', 'modalities')}, indent=2))"
	@echo "--- first predictions ($(DEMO)/two/predictions.jsonl) ---"
	@head -n 3 $(DEMO)/two/predictions.jsonl

# The former name of `make demo`.
demo-four: demo

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m 'not tf'

lint: $(STAMP)
	$(VENV)/bin/ruff check .

sample-data: $(STAMP)
	$(PY) scripts/make_sample_data.py --out sample_data

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
