"""Headline clean-up shared by the head's training and scoring."""

import pytest

from core.sentiment.text import clean_headline, clean_headlines


@pytest.mark.parametrize("raw, clean", [
    ("$CX - Cemex cut at Credit Suisse, J.P. Morgan on weak building outlook "
     "https://t.co/KN1g4AWFIb", "Cemex cut at Credit Suisse, J.P. Morgan on weak building outlook"),
    ("$NVO $NONOF - Novo Nordisk 2019 Q4 - Results.\xa0https://t.co/zK\xa0#finance #investing",
     "Novo Nordisk 2019 Q4 - Results."),
    ("$ESS: BTIG Research cuts to Neutral https://t.co/MCyfTsXc2N",
     "BTIG Research cuts to Neutral"),
    ("An analyst upgrades $LYFT  to buy from hold.  https://t.co/2b", "An analyst upgrades LYFT "
     "to buy from hold."),
    ("Council toured #Greensboro to look at how communities fo… https://t.co/PT",
     "Council toured Greensboro to look at how communities fo"),
    ("$MDCO  https://t.co/iVoLZncc9i", "MDCO"),
    # plain headlines and dollar amounts are untouched
    ("Gold rose to $1,671.20 an ounce", "Gold rose to $1,671.20 an ounce"),
    ("Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .",
     "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn ."),
    ("   ", ""),
])
def test_clean_headline(raw, clean):
    assert clean_headline(raw) == clean


def test_clean_headline_is_idempotent_and_keeps_length():
    texts = ["$A - x https://t.co/1", "plain text", "#tag only"]
    once = clean_headlines(texts)
    assert len(once) == 3 and clean_headlines(once) == once
