"""A second helpdesk for the tenant tests: its KB, its training tickets and its routing policy, written to disk."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ARTICLES = {
    "drone-battery-charging": (
        "Charge your Skylark drone battery",
        "## Charging\n\nConnect the battery to the Skylark charging hub. The LED turns green after about 70 "
        "minutes. Never charge a swollen battery.\n",
    ),
    "drone-warranty-claim": (
        "Make a warranty claim for your Skylark drone",
        "## Warranty\n\nSkylark drones have a two-year warranty. Send the serial number and a photo of the damage "
        "through the claims form; we answer within three working days.\n",
    ),
}
TRAINING = {
    "battery": [
        "My drone battery will not charge", "The battery LED stays red on the hub", "Battery drains in 5 minutes",
        "How long does the battery take to charge?", "The charging hub does not light up",
        "Der Akku der Drohne lädt nicht", "Akku ist nach kurzer Zeit leer", "Can I fly while the battery charges?",
        "Battery got warm after charging", "Which charger works with the Skylark battery?",
    ],
    "warranty": [
        "My drone broke after a week, is it under warranty?", "How do I make a warranty claim?",
        "The propeller arm cracked, warranty please", "Is a crash covered by the warranty?",
        "Garantie für meine Drohne beantragen", "How long is the warranty?", "Warranty claim for a broken camera",
        "I want my drone repaired under warranty", "Does the warranty cover water damage?",
        "Where do I send the serial number for the warranty?",
    ],
    "shipping": [
        "Where is my drone order?", "My parcel has not arrived", "When will my order ship?",
        "Tracking number does not work", "Wo bleibt meine Bestellung?", "Can you ship to Austria?",
        "The delivery is late", "Parcel shows delivered but nothing came", "How much does shipping cost?",
        "Can I change the delivery address?",
    ],
}


def skylark_tenant(root: Path) -> dict[str, object]:
    """A second helpdesk's KB, training data and routing policy, as a tenant entry of the settings."""
    kb = root / "kb"
    kb.mkdir()
    for article_id, (title, body) in ARTICLES.items():
        (kb / f"{article_id}.md").write_text(
            f"---\nid: {article_id}\ntitle: {title}\nlanguage: en\n---\n\n{body}", encoding="utf-8"
        )
    training = root / "training.jsonl"
    with training.open("w", encoding="utf-8") as fh:
        for topic, texts in TRAINING.items():
            for i, text in enumerate(texts):
                fh.write(json.dumps({"text": text, "topic": topic, "urgency": "high" if i % 3 == 0 else "normal"}) + "\n")
    shipped = yaml.safe_load((Path(__file__).parents[2] / "engine" / "route" / "routing.yaml").read_text())
    shipped["queues"] = {"battery": "power", "warranty": "claims", "shipping": "logistics"}
    shipped["thresholds"].pop("per_topic", None)
    shipped.pop("always_handoff_topics", None)
    policy = root / "routing.yaml"
    policy.write_text(yaml.safe_dump(shipped), encoding="utf-8")
    return {"kb_dir": str(kb), "default_training_data": str(training), "routing_file": str(policy), "brand": "Skylark"}
