#!/usr/bin/env bash
# Issue 17's campaign on a lent GPU: the whole recipe in one device call of under 10 minutes.
#
#   scripts/gpu_campaign.sh prepare [NEU-DET folder]   here: copy the data into .campaign-data/ (git-ignored)
#   device run: command "scripts/gpu_campaign.sh run", carry [".campaign-data"], timeout_s 600
#   scripts/gpu_campaign.sh restore                    here, after the call: what prepare set aside goes back
#   TINY=1 scripts/gpu_campaign.sh run                 a CPU rehearsal at toy sizes (tests/test_gpu_campaign.py)
#
# run (the recipe of campaign session 3): the tokenizer resumes from training/campaign/vq-state.safetensors
# when there is one (the CPU sessions' run, packed by `defectforge train state`); else it starts from INIT, the
# campaign's committed tokenizer weights training/campaign/vq-weights.safetensors (else the default bundle).
# VQ_TRAIN=decoder (the default) fine-tunes only its decoder, with the features of CRITIC (a NEU classifier
# trained apart from the eval's judge) as the perceptual loss and no GAN (its PatchGAN drew a crinkled texture
# in sessions 1 and 3), so the tokens stay those the committed MaskGIT learned; VQ_TRAIN=all trains it whole.
# The data is tokenized at 200 px, and a MaskGIT starts from MG_INIT (the committed MaskGIT state, when there
# is one) and trains MG_STEPS with grown defect holes; a quick eval (tokenizer, tokens, painted shapes) runs.
# Back in $OUT (at most 8 files of 16 MB): model.yaml, vq.safetensors, transformer.safetensors, report.md,
# report.json, shapes_sheet.png, vq-log.csv, maskgit-log.csv. Rebuild the bundle here from these and
# run the full `defectforge eval` and `eval downstream` on the CPU before it replaces the default.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
DATA=${DATA:-.campaign-data/NEU-DET}
STATE=${STATE:-training/campaign/vq-state.safetensors}
INIT=${INIT:-training/campaign/vq-weights.safetensors}
[ -f "$INIT" ] || INIT=resources/models/default
CRITIC=${CRITIC:-training/campaign/critic.safetensors}
VQ_TRAIN=${VQ_TRAIN:-decoder}
WORK=${WORK:-/tmp/campaign}
OUT=${OUT:-$WORK/out}

# What travels to the device (tracked files + the carried data) may not pass 64 MiB; the default bundle's two
# weight files (25 MB) are the recipe's only tracked files it never reads, so `prepare` sets them aside in the
# ignored .campaign-hold/ when the total would pass the cap, and `restore` puts them back after the call.
HELD=(resources/models/default/vq.safetensors resources/models/default/transformer.safetensors)
if [ "$mode" = restore ]; then
  for f in "${HELD[@]}"; do [ -f ".campaign-hold/$(basename "$f")" ] && mv ".campaign-hold/$(basename "$f")" "$f"; done
  rmdir .campaign-hold 2>/dev/null || true
  git status --short -- resources/models/default
  exit 0
fi
if [ "$mode" = prepare ]; then
  src=${2:-../shared/datasets/NEU-DET}
  mkdir -p .campaign-data && rm -rf .campaign-data/NEU-DET && cp -r "$src" .campaign-data/NEU-DET
  travel() { git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1; }
  bytes=$(( $(travel) + $(du -sb .campaign-data | cut -f1) ))
  if [ $bytes -gt $(( 62 * 1024 * 1024 )) ]; then
    mkdir -p .campaign-hold && for f in "${HELD[@]}"; do [ -f "$f" ] && mv "$f" .campaign-hold/; done
    bytes=$(( $(travel) + $(du -sb .campaign-data | cut -f1) ))
    echo "the default bundle's weights are set aside in .campaign-hold/: after the device call, $0 restore"
  fi
  echo "data in .campaign-data/NEU-DET; $(( bytes / 1048576 )) MiB travel; carry .campaign-data"
  exit 0
fi
[ "$mode" = run ] || { echo "usage: $0 prepare [DATA] | run | restore" >&2; exit 2; }

# The device's python3 has torch, numpy, OpenCV, PIL, yaml and safetensors; the training code needs no Qt.
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
train() { "$PY" -m training.train_cli "$@"; }
evaluate() { "$PY" -m training.evaluate "$@"; }
if [ "${TINY:-0}" = 1 ]; then  # toy sizes: proves the recipe end to end on a CPU in a minute
  SIZE=64 CROP=32 VQ_STEPS=2 VQ_BATCH=2 MG_STEPS=2 MG_BATCH=4 MG_PRESET=test AUG=1 SHAPES=1 DEVICE=cpu
  VQ_SECONDS=0 MG_SECONDS=0
  MG_INIT=${MG_INIT:-}
else  # MaskGIT: the committed state's preset (cpu-small), so the CPU sessions' steps carry over
  # Wall-time limits (--time-limit) keep the whole call inside one 10-minute device command whatever the speed
  # there turns out to be: the tokenizer's decoder 90 s, MaskGIT 240 s; the steps are what they may reach.
  SIZE=200 CROP=128 VQ_STEPS=${VQ_STEPS:-2500} VQ_BATCH=32 MG_STEPS=${MG_STEPS:-8000} MG_BATCH=256
  VQ_SECONDS=${VQ_SECONDS:-90} MG_SECONDS=${MG_SECONDS:-240}
  MG_PRESET=cpu-small AUG=8 SHAPES=2 DEVICE=${DEVICE:-cuda}
  MG_INIT=${MG_INIT-training/campaign/maskgit-state.safetensors}
fi
perceptual=(--perceptual auto)
# weight 0.25: at 1.0 (session 3, 250 CPU steps) the critic outweighed the pixel loss 60:1 and the decoder drew
# a fine periodic mesh over the grain (held-out SSIM 0.717 -> 0.675)
[ -f "$CRITIC" ] && perceptual=(--perceptual critic --perceptual-critic "$CRITIC" --perceptual-weight 0.25)
gan=(--disc-start 0 --disc-weight 0.5 --disc-adaptive)
[ "$VQ_TRAIN" = decoder ] && gan=(--disc-start 100000000)
mg_init=()
[ -n "$MG_INIT" ] && [ -f "$MG_INIT" ] && mg_init=(--init-weights "$MG_INIT")
mkdir -p "$WORK" "$OUT"
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*"; }

vq_run=$WORK/vq
from=0
if [ -f "$STATE" ] && [ ! -d "$vq_run/checkpoints" ]; then
  train state --action unpack --file "$STATE" --run "$vq_run"
  from=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["step"])' "$vq_run/checkpoints/latest.json")
fi
stamp "VQ from step $from (warm start, when not resumed: $INIT)"
train vq --data "$DATA" --out "$vq_run" --preset vq8-gray --init-bundle "$INIT" --train "$VQ_TRAIN" \
  --name defectforge-campaign --image-size $SIZE --crop-size $CROP --batch-size $VQ_BATCH \
  --steps $((from + VQ_STEPS)) --lr 1e-4 --warmup-steps 0 --codebook-restart 50 "${perceptual[@]}" "${gan[@]}" \
  --checkpoint-every 1000 --eval-every $VQ_STEPS --eval-images 32 --device $DEVICE --workers 0 \
  --time-limit $VQ_SECONDS
cp "$vq_run/log.csv" "$OUT/vq-log.csv"  # each stage's files go back as soon as they exist
cp "$vq_run/bundle/vq.safetensors" "$OUT/"
stamp "tokenize"
train tokenize --data "$DATA" --vq "$vq_run/bundle" --out "$WORK/tokens" --augmentations $AUG \
  --device $DEVICE --overwrite
stamp "MaskGIT (${mg_init[*]:-from scratch})"
train maskgit --tokens "$WORK/tokens" --out "$WORK/maskgit" --preset $MG_PRESET --batch-size $MG_BATCH "${mg_init[@]}" \
  --steps $MG_STEPS --lr 5e-4 --warmup-steps $(( MG_STEPS / 20 + 1 )) --grown-share 0.5 --cfg-weight 4.0 \
  --name defectforge-campaign --checkpoint-every $MG_STEPS --eval-every $MG_STEPS --device $DEVICE \
  --time-limit $MG_SECONDS
bundle=$WORK/maskgit/bundle
cp "$bundle/model.yaml" "$bundle/vq.safetensors" "$bundle/transformer.safetensors" "$OUT/"
cp "$WORK/maskgit/log.csv" "$OUT/maskgit-log.csv"
stamp "eval"
evaluate "$WORK/maskgit/bundle" --data "$DATA" --out "$WORK/eval" --sections vq maskgit shapes \
  --shapes-per-kind $SHAPES --max-images 64 --device $DEVICE || stamp "eval failed: the bundle still comes back"
for f in report.md report.json shapes_sheet.png; do [ -f "$WORK/eval/$f" ] && cp "$WORK/eval/$f" "$OUT/"; done
stamp "done: $(ls "$OUT" | tr '\n' ' ')"
