"""Scoring a relation model on one labelled dataset, the same way for validation and `evaluate`."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.metrics import calibration_error, e2e_scores, pair_scores, sentence_scores, sign_accuracy
from core.specs import spec_format
from core.types import Direction, LabeledData
from data.readers import SENTENCE_FORMATS, data_sha256, split
from models.classifier import RelationModel
from models.writer import RelationWriter


def _round(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def held_out_part(spec: str, data: LabeledData, config: dict, progress: Callable = print
                  ) -> tuple[str, LabeledData]:
    """The part of `data` (read from `spec`) a bundle may be scored on: a dataset the bundle was
    trained on (same format and sha256, see data.readers.data_sha256) gives its held-out validation
    split only; any other dataset is scored whole ("all")."""
    digest = data_sha256(spec, data)
    for item in config.get("training_data", []):
        if digest is not None and item.get("sha256") == digest and item.get("format") == spec_format(spec):
            progress(f"{spec} was a training file: scoring its held-out validation split only")
            return "validation", split(data, item["valid_fraction"], item["seed"])[1]
    return "all", data


def evaluate_data(model: RelationModel | RelationWriter, data: LabeledData, fmt: str, progress: Callable | None = None) -> dict:
    """n and causal P/R/F1 + detection F1 on span-labelled pairs; sign accuracy where signs are
    labelled; sentence_f1 (the model finds its own candidates / its sentence head) for formats with
    sentence labels; e2e P/R/F1 on passages (word-overlap matching, sign must agree)."""
    pairs = not isinstance(model, RelationWriter)  # the relation writer scores no given pair
    found_in: dict[str, list] = {}

    def extract(texts: list[str]) -> list[list]:
        """The model's relations per text, each text extracted once (TwoSix passages are its
        sentences too; a relation does not depend on the other texts of the call)."""
        todo = [t for t in dict.fromkeys(texts) if t not in found_in]
        found_in.update(zip(todo, model.extract(todo, progress=progress is not None)))
        return [found_in[t] for t in texts]

    out: dict = {"n": len(data.examples)} if pairs else {}
    if data.examples and pairs:
        preds = model.predict_candidates([e.candidate for e in data.examples])
        out.update(pair_scores([int(e.label) for e in data.examples], [int(p.direction) for p in preds]))
        # the check that LogisticRegression's own probabilities are calibrated enough to filter on
        out["causal_ece"] = calibration_error(np.asarray([p.p_causal for p in preds]),
                                              np.asarray([e.label != Direction.NONE for e in data.examples]))
        gold_signs = [e.sign if e.label != Direction.NONE else None for e in data.examples]
        acc = sign_accuracy(gold_signs, [p.sign for p in preds])
        if acc is not None and model.sign_ is not None:
            out["sign_accuracy"] = acc
            out["n_signed"] = sum(s in (1, -1) for s in gold_signs)
    if data.passages:
        out.update(e2e_scores(extract([p.text for p in data.passages]), [p.relations for p in data.passages]))
        out["n_passages"] = len(data.passages)
        out["n_gold_relations"] = sum(len(p.relations) for p in data.passages)
    if data.sentences and fmt in SENTENCE_FORMATS:
        gold = [s.causal for s in data.sentences]
        texts = [s.text for s in data.sentences]
        any_rel = np.asarray([bool(r) for r in extract(texts)]) if not pairs or model.sentence_ is not None else None
        if pairs:
            out.update(sentence_scores(gold, model.predict_sentences(texts)))
            if any_rel is not None:  # the alternative rule, for comparison: causal iff it extracts any relation
                out["sentence_f1_any_relation"] = sentence_scores(gold, any_rel)["sentence_f1"]
        else:  # the writer: causal iff it writes a relation
            out.update(sentence_scores(gold, any_rel))
        out["n_sentences"] = len(texts)
    return _round(out)
