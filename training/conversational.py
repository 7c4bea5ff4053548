"""Everyday chat messages to an assistant, as negatives for the harmful_request model.

The public benign rows are trivia questions ("who wrote ..."), and the red-team openings added as
positives are conversational ("Do you have any tips on how to ..."), so the model learned the
conversational register itself as a sign of harm: it scored 11 of 30 hand-written everyday
messages ("Do you sell gift cards?", "How do I cancel my subscription?") above its own threshold
(training/chat_checkset.jsonl, evaluation only, written before this module and not drawn from it).
These are the customer-service and everyday-advice messages real assistants receive, in the
same forms ("Do you have ...?", "Can I ...?", "How do I ...?", "Any tips for ...?").

Every list is split train/dev like training/injections.py (`_part`): dev figures come from
phrasings the model was never fitted on.
"""

from __future__ import annotations

import random

from training.injections import _part

_FORMS = [
    "Do you have {thing}?",
    "Do you offer {thing}?",
    "Is there {thing}?",
    "Are you able to provide {thing}?",
    "Does the shop have {thing}?",
    "Can I get {thing}?",
    "Hi, do you have {thing}?",
    "Quick question: do you have {thing}?",
    "I was wondering if you have {thing}.",
    "Any chance you have {thing}?",
]
_THINGS = [
    "a gluten-free menu",
    "free wifi in the rooms",
    "a children's play area",
    "same-day delivery",
    "a loyalty card",
    "a family ticket",
    "an English version of the manual",
    "a spare charger",
    "an outdoor terrace",
    "a refill for this pen",
    "a larger size of these boots",
    "a monthly payment option",
    "a trial version",
    "a wheelchair-accessible entrance",
    "a printable receipt",
    "a sample I could try",
    "a dark mode in the app",
    "a bike rack",
    "a quieter room away from the lift",
    "evening appointments",
    "a senior discount",
    "a cheaper plan for small teams",
    "gift wrapping",
    "an electric car charger",
    "a lactose-free option",
    "a shuttle from the airport",
    "a late checkout",
    "a replacement lid for this pot",
    "an installation guide",
    "a waiting list",
]
_ACTIONS = [
    "Can I {act}?",
    "How do I {act}?",
    "Is it possible to {act}?",
    "I'd like to {act}.",
    "Could you help me {act}?",
    "What do I need to {act}?",
    "Where can I {act}?",
    "I want to {act}, what are the steps?",
    "Please help me {act}.",
    "How long does it take to {act}?",
]
_ACTS = [
    "return a pair of shoes",
    "update my delivery address",
    "switch to the yearly plan",
    "add a second user to my account",
    "move my appointment to Friday",
    "download last month's invoice",
    "pause my membership over the summer",
    "change the name on my booking",
    "unsubscribe from the newsletter",
    "get a refund for a cancelled train",
    "report a broken street light",
    "pay with a bank transfer",
    "upgrade my seat",
    "track a parcel",
    "split the bill with a friend",
    "transfer my phone number",
    "renew my library books online",
    "close my old savings account",
    "book a test drive",
    "register my warranty",
    "set up two-factor authentication",
    "export my contacts",
    "order extra keys for my flat",
    "join the waiting list for the course",
    "claim my lost luggage",
    "change my PIN",
    "delete an old post",
    "redeem a voucher",
    "cancel my gym contract",
    "change the language of the app",
]
_ADVICE = [
    "Do you have any tips for {topic}?",
    "Any advice on {topic}?",
    "What's the best way to {goal}?",
    "How can I {goal}?",
    "What would you suggest for {topic}?",
    "I need some ideas for {topic}.",
    "How should I {goal}?",
    "Got any recommendations for {topic}?",
    "What helps with {topic}?",
    "Is there a trick to {goal}?",
]
_TOPICS = [
    "a first marathon",
    "a long flight with a toddler",
    "staying focused while working from home",
    "a small balcony garden",
    "a rainy day with kids",
    "learning chords on the guitar",
    "a budget trip to Portugal",
    "a surprise party",
    "keeping a sourdough starter alive",
    "a presentation at work",
    "cold hands when cycling in winter",
    "a picky eater",
    "decorating a small bedroom",
    "meal prep for the week",
    "saving for a new car",
    "a noisy neighbour's dog",
    "jet lag",
    "writing a wedding speech",
    "studying for a driving test",
    "a beginner's chess opening",
]
_GOALS = [
    "get rid of mould in the bathroom",
    "get rid of hiccups",
    "get rid of fruit flies",
    "get rid of a red wine stain",
    "remove rust from garden tools",
    "unclog a sink without chemicals",
    "fix a squeaky door",
    "make my phone battery last longer",
    "keep basil alive indoors",
    "wake up earlier",
    "stop procrastinating",
    "clean a cast iron pan",
    "fall asleep faster",
    "get my cat to stop scratching the sofa",
    "pack a suitcase lighter",
    "cut an onion without crying",
    "learn to touch type",
    "ask for a raise",
    "keep my inbox under control",
    "defrost the freezer quickly",
]
_OTHER = [
    "Can you recommend {rec}?",
    "What's a good {rec_short} for a beginner?",
    "Could you suggest {rec}?",
    "Can you explain {concept} in simple terms?",
    "What does {concept} mean?",
    "How do you say '{phrase}' in {lang}?",
    "Can you translate '{phrase}' into {lang}?",
]
_RECS = [
    "a podcast about space",
    "a board game for six people",
    "a film for a family evening",
    "a novel set in Japan",
    "a walking route near Edinburgh",
    "an app for learning Italian",
    "a gift for a coffee lover",
    "a warm-up routine before running",
]
_REC_SHORT = ["camera", "houseplant", "road bike", "sewing machine", "telescope", "programming language"]
_CONCEPTS = [
    "compound interest",
    "a VPN",
    "inflation",
    "a credit score",
    "machine learning",
    "the greenhouse effect",
    "an index fund",
    "a firewall",
]
_PHRASES = [
    "thank you very much",
    "where is the station",
    "happy birthday",
    "see you tomorrow",
    "how much does it cost",
    "I'm allergic to nuts",
]
_LANGS = ["Spanish", "German", "Italian", "Korean", "Dutch", "Greek", "Turkish", "Swedish"]


def _message(split: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(_part(_FORMS, split)).format(thing=rng.choice(_part(_THINGS, split)))
    if roll < 0.55:
        return rng.choice(_part(_ACTIONS, split)).format(act=rng.choice(_part(_ACTS, split)))
    if roll < 0.85:
        return rng.choice(_part(_ADVICE, split)).format(
            topic=rng.choice(_part(_TOPICS, split)), goal=rng.choice(_part(_GOALS, split))
        )
    return rng.choice(_part(_OTHER, split)).format(
        rec=rng.choice(_part(_RECS, split)),
        rec_short=rng.choice(_REC_SHORT),
        concept=rng.choice(_part(_CONCEPTS, split)),
        phrase=rng.choice(_PHRASES),
        lang=rng.choice(_LANGS),
    )


_GREETINGS = ["", "", "", "Hi, ", "Hello! ", "Hey, ", "Good morning. ", "Hi there. ", "Sorry to bother you, "]
_CLOSINGS = ["", "", "", " Thanks!", " Thank you.", " Cheers.", " Thanks in advance.", " :)"]


def everyday_chat(split: str, rng: random.Random, n: int) -> list[str]:
    """n distinct everyday messages (fewer if the split's templates run out)."""
    out: set[str] = set()
    for _ in range(n * 20):
        if len(out) >= n:
            break
        text = _message(split, rng)
        greeting = rng.choice(_GREETINGS)
        if greeting:
            text = greeting + text[0].lower() + text[1:]
        out.add(text + rng.choice(_CLOSINGS))
    return sorted(out)
