"""`defectforge train vq|tokenize|maskgit`: the training jobs, in the order they run.

  vq        VQ tokenizer (LlamaGen recipe) on a dataset            -> <out>/bundle (VQ + untrained transformer)
  tokenize  dataset -> token cache (8 dihedral augmentations)      -> cache folder
  maskgit   Halton-MaskGIT transformer on a token cache            -> <out>/bundle (the model the app uses)
  classifier  the defect classifier that scores variants             -> <bundle>/classifier.safetensors
  state     a run's latest checkpoint packed into one bf16 file, or back (a campaign across sessions)

Every option can also come from a YAML file: `--config job.yaml` (keys are the option names); flags typed on the
command line win over the file. Runs resume from their last checkpoint when started again with the same --out.
"""

from __future__ import annotations

import sys

from training.commands import Job, run_job_command

PROG = "defectforge train"


def jobs() -> dict[str, Job]:
    from training.campaign_state import StateConfig, run_state
    from training.classifier import ClassifierConfig, train_bundle_classifier
    from training.tokenize import TokenizeConfig, tokenize
    from training.train_maskgit import MaskGITConfig, train_maskgit
    from training.train_vq import VQTrainConfig, train_vq

    return {
        "vq": Job(VQTrainConfig, train_vq, "train the VQ tokenizer (from scratch or from a LlamaGen checkpoint)"),
        "tokenize": Job(TokenizeConfig, tokenize, "encode a dataset into a token cache for MaskGIT training"),
        "maskgit": Job(MaskGITConfig, train_maskgit, "train the Halton-MaskGIT transformer on a token cache"),
        "classifier": Job(
            ClassifierConfig,
            train_bundle_classifier,
            "train the defect classifier that scores variants (or adopt an eval judge) and add it to a bundle",
        ),
        "state": Job(
            StateConfig, run_state, "pack a run's latest checkpoint into one small file, or unpack it to resume"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    try:
        return run_job_command(PROG, __doc__, jobs(), argv)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; start the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
