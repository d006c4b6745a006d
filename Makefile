# Two commands on a fresh machine: `make run` and `make test`.
# The venv is (re)built only when requirements*.txt change (stamp file).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp
PORT ?= 8501
# Only this machine can reach the app; `make run HOST=0.0.0.0` opens it to a team (README: sign-in)
HOST ?= 127.0.0.1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test model writer bench venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app/main.py --server.address $(HOST) --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(PY) -m pytest -q

SHARED ?= ../shared/data
# One torch thread: the LoRA stage is then the same computation on any machine (reproducible),
# and on a shared 2-core machine two threads spin against other processes and run ~4x slower.
# LoRA r=16 on every linear layer of MiniLM (query, key, value and the three "dense"), up to 2000
# steps of 16 (~1.5 s each): about 50 min of tuning the first time, then the adapter is cached.
# LOSO_REPORT=FILE: the output of `python -m models evaluate --loso --json` on the same files, for the model card.
model: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m models train \
	  --data semeval2010:$(SHARED)/semeval2010_task8/TRAIN_FILE.TXT \
	  --data cnc:$(SHARED)/causal_news_corpus_v2/train_subtask1.csv \
	  --data twosix:$(SHARED)/twosix/OSW_labeled_data.json \
	  --data twosix:$(SHARED)/twosix/OSW_Copping_et_al_2020_labelled.json \
	  --data sift:$(SHARED)/twosix/SIFT_data_2024_03.jsonl \
	  --lora --lora-steps 2000 --lora-epochs 3 --lora-r 16 --lora-targets query,key,value,dense --lora-holdout 0.25 \
	  $(if $(LOSO_REPORT),--loso-report $(LOSO_REPORT)) \
	  --out models/default

# The opt-in relation writer (README: "Relation writer"): SmolLM2-135M + LoRA tuned to write each
# passage's relations, on the passage files' training splits (the same 20 % validation splits as
# `make model`); about 25 min on 2 cores. Its weights (a 9.8 MB float16 adapter) stay out of git,
# under var/; the Model page lists it; "Use this model" makes it active.
WRITER_OUT ?= var/models/writer
writer: $(STAMP)
	$(PY) -m models train-writer \
	  --data sift:$(SHARED)/twosix/SIFT_data_2024_03.jsonl \
	  --data twosix:$(SHARED)/twosix/OSW_labeled_data.json \
	  --data twosix:$(SHARED)/twosix/OSW_Copping_et_al_2020_labelled.json \
	  --threads 2 --out $(WRITER_OUT)

# Speed figures quoted in README.md (run on an otherwise idle machine).
bench: $(STAMP)
	$(PY) -m bench.ingest --pages 50 --repeat 3
	$(PY) bench/store.py
	$(PY) bench/fcm.py
	$(PY) bench/embed.py
	$(PY) bench/extract.py
	$(PY) bench/review.py
	$(PY) bench/label_flow.py
