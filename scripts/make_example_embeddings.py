"""Build data/example_embeddings.parquet: words and short phrases in categories, embedded with the
bundled all-MiniLM-L6-v2 (sentence embeddings, L2-normalised, 384 dims).

Run once (about 10 s on a CPU) and commit the result; the PCA page loads it instantly:

    .venv/bin/python scripts/make_example_embeddings.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CATEGORIES = {
    "animal": "dog cat horse cow sheep pig lion tiger elephant giraffe zebra monkey wolf fox bear rabbit mouse "
              "eagle owl shark whale dolphin snake frog",
    "country": "France Germany Italy Spain Portugal Japan China India Brazil Canada Mexico Egypt Kenya "
               "Australia Russia Greece Sweden Norway Poland Turkey Argentina Peru",
    "capital": "Paris Berlin Rome Madrid Lisbon Tokyo Beijing Delhi Brasilia Ottawa Cairo Nairobi Canberra "
               "Moscow Athens Stockholm Oslo Warsaw Ankara Lima",
    "royalty & gender": "king queen man woman prince princess he she boy girl father mother son daughter "
                        "husband wife brother sister uncle aunt emperor empress lord lady",
    "number": "one two three four five six seven eight nine ten eleven twelve twenty hundred thousand million "
              "first second third",
    "colour": "red orange yellow green blue purple pink brown black white grey violet turquoise crimson",
    "fruit": "apple banana orange cherry grape lemon mango peach pear pineapple strawberry watermelon kiwi plum",
    "profession": "doctor nurse teacher engineer lawyer farmer chef pilot programmer scientist artist "
                  "musician firefighter plumber carpenter accountant journalist",
    "verb": "run walk swim jump eat drink sleep read write sing dance think speak listen build drive",
    "vehicle": "car bus train bicycle airplane boat ship truck motorcycle helicopter subway tram",
    "emotion": "happy sad angry afraid surprised calm proud jealous lonely excited bored anxious",
    "weather": "rain snow sunny cloudy storm wind fog thunder hail rainbow",
}
PHRASES = {
    "phrase: food": ["a bowl of hot soup", "fresh bread from the bakery", "a slice of pizza", "grilled fish with rice",
                     "chocolate cake for dessert", "a cup of coffee", "a glass of orange juice", "pasta with tomato sauce"],
    "phrase: sport": ["playing football in the park", "a tennis match", "running a marathon", "swimming laps in a pool",
                      "a basketball game", "skiing down a mountain", "cycling up a hill", "a game of chess"],
    "phrase: technology": ["a new smartphone", "training a neural network", "the computer crashed",
                           "writing Python code", "a fast internet connection", "a matrix multiplication on the GPU",
                           "a language model predicts the next word", "an email inbox full of spam"],
    "phrase: nature": ["a quiet forest at dawn", "waves crashing on the beach", "a snowy mountain peak",
                       "a river flowing through a valley", "stars in the night sky", "a field of sunflowers",
                       "autumn leaves falling", "a desert at noon"],
}


def rows() -> pd.DataFrame:
    out = [(w, c, "word") for c, words in CATEGORIES.items() for w in words.split()]
    out += [(p, c, "phrase") for c, ps in PHRASES.items() for p in ps]
    df = pd.DataFrame(out, columns=["label", "category", "kind"])
    # "orange" is both a colour and a fruit: keep the first, make labels unique
    return df.drop_duplicates("label").reset_index(drop=True)


def main() -> None:
    from la_core.models import load_model

    df = rows()
    vecs = load_model().embed(df["label"].tolist())                 # (n, 384) float32, unit rows
    df["vector"] = [np.asarray(v, np.float32) for v in vecs]
    out = ROOT / "data" / "example_embeddings.parquet"
    out.parent.mkdir(exist_ok=True)
    df.to_parquet(out, index=False)
    print(f"wrote {out}: {len(df)} rows x {vecs.shape[1]} dims")


if __name__ == "__main__":
    main()
