"""Sentence splitting: abbreviations common in papers never end a sentence; offsets are exact."""
from __future__ import annotations

import pytest

from data.ingest import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize("text, expected", [
    ("Hake moved north (Smith et al. 2019). The shift was fast.",
     ["Hake moved north (Smith et al. 2019).", "The shift was fast."]),
    ("Jansen et al. (2020) found more crabs. Nobody disputed it.",
     ["Jansen et al. (2020) found more crabs.", "Nobody disputed it."]),
    ("The effect was reported by Jansen et al. The next study disagreed.",
     ["The effect was reported by Jansen et al.", "The next study disagreed."]),
    ("As shown in Fig. 2 the plume widened. See Figs. 3 and 4 as well.",
     ["As shown in Fig. 2 the plume widened.", "See Figs. 3 and 4 as well."]),
    ("Turbidity rose by approx. 40 per cent near the piles. It fell later.",
     ["Turbidity rose by approx. 40 per cent near the piles.", "It fell later."]),
    ("Some species, e.g. Sole, declined. Others, i.e. Flatfish, did not.",
     ["Some species, e.g. Sole, declined.", "Others, i.e. Flatfish, did not."]),
    ("Results differ, cf. Table 3 for details. Effort vs. Catch is plotted.",
     ["Results differ, cf. Table 3 for details.", "Effort vs. Catch is plotted."]),
    ("Dr. Moreau sampled the site. Prof. Lee checked the data.",
     ["Dr. Moreau sampled the site.", "Prof. Lee checked the data."]),
    ("The survey by J. R. Tolkien and A.B. Carter was repeated. It held.",
     ["The survey by J. R. Tolkien and A.B. Carter was repeated.", "It held."]),
    ("Mean depth was 24.5 m. Salinity was 34.1 psu.",
     ["Mean depth was 24.5 m.", "Salinity was 34.1 psu."]),
    ("Was the effect real? Yes! Mortality rose (Eq. 3). Data came from the U.S. The end.",
     ["Was the effect real?", "Yes!", "Mortality rose (Eq. 3).", "Data came from the U.S.",
      "The end."]),
    ('He wrote "Seals left." Then they returned.', ['He wrote "Seals left."', "Then they returned."]),
])
def test_abbreviations_initials_and_decimals_do_not_split(text, expected):
    assert sentences(text) == expected


def test_blank_lines_are_hard_boundaries_and_offsets_index_the_input():
    text = "  First paragraph without a stop\n\n\nSecond one. Third one.  \n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First paragraph without a stop", "Second one.",
                                            "Third one."]
    assert spans[0][0] == 2


def test_empty_text_has_no_sentences():
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []
