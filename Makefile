# SaltiNet reproduction. The two entry points are `make demo` and `make test` (README).
#
#   make venv        create .venv from requirements.txt
#   make test        ruff + the pytest suite (what CI runs)
#   make demo        the whole pipeline on the embedded synthetic dataset (< 20 min, CPU)
#   make reproduce DATA=/path/to/salient360 [SALICON=...] [ISUN=...]
#                    the paper's chain with the paper's settings on the real data
#   make bench       the measured-performance scripts of tests/benchmarks/
PY      := .venv/bin/python
VENV    := .venv/.installed
RUNPY   := TF_CPP_MIN_LOG_LEVEL=2 $(PY)

.PHONY: venv test lint bench clean demo reproduce pipeline

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

bench: $(VENV)
	$(RUNPY) -m tests.benchmarks.volumes
	$(RUNPY) -m tests.benchmarks.sampling
	$(RUNPY) -m tests.benchmarks.scanpath_metric
	$(RUNPY) -m tests.benchmarks.saliency_metrics
	$(RUNPY) -m tests.benchmarks.train_step

clean:
	rm -rf .pytest_cache .ruff_cache

# ---------------------------------------------------------------------------------------
# The numbered pipeline, parameterised (`make pipeline ROOT=... RUN=...`; `demo` and
# `reproduce` set the variables). Every step writes atomically and has a file target, so an
# interrupted run redoes only what is missing; training resumes from its last epoch.
#   1 pack   2 train map model   3 train volume model   4 sample scan-paths   5 evaluate
ROOT       ?=
RUN        ?=
SIZE       ?= --height 300 --width 600
MAP_EPOCHS ?= 90
VOL_EPOCHS ?= 90
TRAIN      ?= --precision mixed_bfloat16
MAP_INIT   ?=
VOL_INIT   ?=
VOL_OPTS   ?=
SEEDS      ?= 0 1 2
STRATEGIES ?= random naive ior gaussian
FIGURE_IMAGE ?= 35
# continue an interrupted training run, start afresh otherwise
resume_or_force = $$(test -f $(1) && echo --resume || echo --force)

pipeline: $(RUN)/tables.md $(RUN)/figures/.done
	@echo
	@echo "Results in $(RUN):"
	@echo "  tables:      $(RUN)/tables.md  (and $(RUN)/table*.csv)"
	@echo "  scan-paths:  $(RUN)/runs/<method>/seed<k>/P<n>.csv"
	@echo "  maps:        $(RUN)/maps/P<n>.bin"
	@echo "  figures:     $(RUN)/figures/figure{1,3,4,5,6}.png, $(RUN)/predict/P$(FIGURE_IMAGE).*.png"
	@echo "  checkpoints: $(RUN)/weights/{map,volume}.best.weights.h5 (+ .history.csv, .curve.png)"

# step 1: pack the dataset at the working size
$(RUN)/packs/.done: | $(VENV)
	@test -n "$(ROOT)" -a -n "$(RUN)" || { echo "error: set ROOT=<dataset root> and RUN=<output folder>"; exit 2; }
	$(RUNPY) -m data_prep.make_dataset $(ROOT) $(RUN)/packs $(SIZE) --force
	touch $@

# step 2: the saliency-map model (fine-tuned from MAP_INIT when given)
$(RUN)/weights/map.done: $(RUN)/packs/.done
	$(RUNPY) train_map.py --data $(RUN)/packs --out $(RUN)/weights --epochs $(MAP_EPOCHS) $(TRAIN) \
	  $(if $(MAP_INIT),--init $(MAP_INIT)) $(call resume_or_force,$(RUN)/weights/map.resume.h5)
	touch $@

# step 3: the saliency-volume model, conv1-conv8 from VOL_INIT (default: the map model)
$(RUN)/weights/volume.done: $(RUN)/weights/map.done
	$(RUNPY) train_volume.py --data $(RUN)/packs --out $(RUN)/weights --epochs $(VOL_EPOCHS) $(TRAIN) \
	  --init $(or $(VOL_INIT),$(RUN)/weights/map.best.weights.h5) $(VOL_OPTS) \
	  $(call resume_or_force,$(RUN)/weights/volume.resume.h5)
	touch $@

# step 4: volumes of the validation images once, then every strategy and seed from them,
# and the ground-truth references of Table 1
$(RUN)/runs/.done: $(RUN)/weights/volume.done
	$(RUNPY) sample_scanpaths.py --weights $(RUN)/weights/volume.best.weights.h5 \
	  --dataset $(ROOT) --ids val --save-volumes --out $(RUN)/runs/model --force
	for seed in $(SEEDS); do \
	  for m in $(STRATEGIES); do \
	    $(PY) sample_scanpaths.py --volumes $(RUN)/runs/model/volumes --dataset $(ROOT) \
	      --strategy $$m --seed $$seed --out $(RUN)/runs/$$m/seed$$seed --force || exit 2; \
	  done; \
	  for src in gt-volume gt-map; do \
	    $(PY) sample_scanpaths.py --source $$src --dataset $(ROOT) --ids val \
	      --seed $$seed --out $(RUN)/runs/$$src/seed$$seed --force || exit 2; \
	  done; \
	done
	touch $@

# step 5: Tables 1-3 (the map model runs on the evaluation images) and the figures
$(RUN)/tables.md: $(RUN)/runs/.done
	$(RUNPY) evaluate.py tables --dataset $(ROOT) --runs $(RUN)/runs --out $(RUN) \
	  --map-weights $(RUN)/weights/map.best.weights.h5 --force

$(RUN)/figures/.done: $(RUN)/runs/.done
	$(RUNPY) evaluate.py figures --dataset $(ROOT) --image $(FIGURE_IMAGE) --runs $(RUN)/runs \
	  --out $(RUN)/figures --volume-weights $(RUN)/weights/volume.best.weights.h5 \
	  --stats $(RUN)/runs/model/stats.json --history map=$(RUN)/weights/map.history.csv \
	  --history volume=$(RUN)/weights/volume.history.csv --force
	$(RUNPY) sample_scanpaths.py --image $$(ls $(ROOT)/Images/P$(FIGURE_IMAGE).* | head -1) \
	  --weights $(RUN)/weights/volume.best.weights.h5 --out $(RUN)/predict --force
	touch $@

# ---------------------------------------------------------------------------------------
# make demo: the pipeline on the embedded synthetic dataset at 96x192, a few epochs. With so
# few epochs the volume model starts every slice from the map model's head and uses the map
# model's learning rate (0.01) instead of the paper's 0.001.
DEMO_DATA ?= data/demo
DEMO      ?= results/demo

$(DEMO_DATA)/README.txt: | $(VENV)
	$(RUNPY) -m data_prep.demo_dataset $(DEMO_DATA) --force

demo: $(DEMO_DATA)/README.txt
	$(MAKE) --no-print-directory pipeline ROOT=$(DEMO_DATA) RUN=$(DEMO) \
	  SIZE="--height 96 --width 192" MAP_EPOCHS=10 VOL_EPOCHS=14 \
	  TRAIN="--precision mixed_bfloat16 --verbose 2" VOL_OPTS="--init-head replicate --lr 0.01"
	@echo "(demo: SYNTHETIC data, not the Salient360! dataset; see $(DEMO)/tables.md)"

# ---------------------------------------------------------------------------------------
# make reproduce DATA=<Salient360! 2017 root> [SALICON=<root>] [ISUN=<root>]
#   [MAP_INIT=ckpt] [VOL_INIT=ckpt] [OUT=results/reproduce]
# SALICON pre-trains the map model and iSUN the volume model when given; otherwise those
# steps are skipped (say so) and MAP_INIT / VOL_INIT checkpoints, if named, are used.
OUT ?= results/reproduce
REPRO_TRAIN ?= --precision mixed_bfloat16

reproduce: | $(VENV)
	@test -n "$(DATA)" || { echo "error: make reproduce needs DATA=<Salient360! 2017 root> (Images/, Scanpaths/, HeadEyeSalMaps/); see README 'Data'"; exit 2; }
ifdef SALICON
	$(MAKE) --no-print-directory $(OUT)/pretrain/map_salicon.done SALICON=$(SALICON)
	$(eval MAP_INIT := $(OUT)/pretrain/map_salicon.best.weights.h5)
else
	@echo "note: SALICON not given: map-model pre-training skipped$(if $(MAP_INIT), (starting from $(MAP_INIT)))"
endif
ifdef ISUN
	$(MAKE) --no-print-directory $(OUT)/pretrain/volume_isun.done ISUN=$(ISUN) MAP_INIT=$(MAP_INIT)
	$(eval VOL_INIT := $(OUT)/pretrain/volume_isun.best.weights.h5)
else
	@echo "note: ISUN not given: volume-model pre-training on iSUN skipped$(if $(VOL_INIT), (starting from $(VOL_INIT)))"
endif
	$(MAKE) --no-print-directory pipeline ROOT=$(DATA) RUN=$(OUT) TRAIN="$(REPRO_TRAIN)" \
	  $(if $(MAP_INIT),MAP_INIT=$(MAP_INIT)) $(if $(VOL_INIT),VOL_INIT=$(VOL_INIT))

$(OUT)/pretrain/salicon/.done: | $(VENV)
	$(RUNPY) -m data_prep.make_dataset $(SALICON) $(OUT)/pretrain/salicon --format salicon --force
	touch $@

$(OUT)/pretrain/map_salicon.done: $(OUT)/pretrain/salicon/.done
	$(RUNPY) train_map.py --data $(OUT)/pretrain/salicon --out $(OUT)/pretrain --name map_salicon \
	  $(REPRO_TRAIN) $(if $(MAP_INIT),--init $(MAP_INIT)) \
	  $(call resume_or_force,$(OUT)/pretrain/map_salicon.resume.h5)
	touch $@

$(OUT)/pretrain/isun/.done: | $(VENV)
	$(RUNPY) -m data_prep.make_dataset $(ISUN) $(OUT)/pretrain/isun --format isun --force
	touch $@

$(OUT)/pretrain/volume_isun.done: $(OUT)/pretrain/isun/.done
	$(RUNPY) train_volume.py --data $(OUT)/pretrain/isun --out $(OUT)/pretrain --name volume_isun \
	  $(REPRO_TRAIN) $(if $(MAP_INIT),--init $(MAP_INIT)) \
	  $(call resume_or_force,$(OUT)/pretrain/volume_isun.resume.h5)
	touch $@
