"""Ordinary instructions to a model, as negatives for the jailbreak model.

Nearly every production request starts with the operator's system prompt ("You are the support
assistant of ..., answer briefly, reply in JSON"), and users ask for personas and formats
("answer as a pirate", "from now on reply in Spanish"). Jailbreaks use the same moves (a persona,
standing orders) with a different aim (no rules, no refusals). Trained without these, the model
scored personas and standing orders as jailbreaks: 13 of 30 hand-written ordinary system prompts
at the packs' threshold (training/instructions_checkset.jsonl, evaluation only, written before
this module and not drawn from it).

Every list is split train/dev like training/injections.py (`_part`): dev figures come from
phrasings the model was never fitted on.
"""

from __future__ import annotations

import random

from training.injections import _part

_OPENERS = [
    "You are {role}{org}.",
    "You're {role}{org}.",
    "Your role: {role}{org}.",
    "Act as {role}{org}.",
    "You work as {role}{org}.",
    "In this conversation you are {role}{org}.",
    "Take the part of {role}{org}.",
    "Behave as {role}{org} would.",
    "Assistant persona: {role}{org}.",
    "You will serve as {role}{org}.",
]
_ROLES = [
    "a support assistant",
    "an onboarding guide",
    "a coding helper",
    "a recipe advisor",
    "a tax information assistant",
    "a museum guide",
    "a Spanish teacher",
    "a library assistant",
    "an IT helpdesk agent",
    "a booking assistant",
    "a sales assistant",
    "a study buddy",
    "a product expert",
    "a knowledge-base search assistant",
    "a meeting note taker",
    "a writing coach",
    "a release-notes writer",
    "a claims assistant",
    "a gardening expert",
    "a nutrition information assistant",
    "a career advisor",
    "a chess coach",
    "a smart-home assistant",
    "a banking FAQ bot",
    "a shipping tracker assistant",
    "an accessibility helper",
    "a proofreader",
    "a math tutor for adults",
    "a DevOps assistant",
    "a research summariser",
    "a quiz host",
    "a dungeon master for a family board game",
    "a friendly concierge",
    "a real-estate listing assistant",
    "an insurance FAQ assistant",
    "a patient intake assistant",
    "a school timetable assistant",
    "a fashion stylist",
    "a wine pairing advisor",
    "a podcast show-notes writer",
]
_ORGS = [
    "",
    "",
    "",
    " for Northwind Traders",
    " at Fabrikam Health",
    " for the city library",
    " at a regional airline",
    " for an online bookshop",
    " at Tailspin Toys",
    " for a university IT department",
    " at a car rental company",
    " for Litware Cloud",
    " at a pharmacy chain",
    " for a hotel group",
    " at an energy supplier",
]
_RULES = [
    "Keep answers under {n} words.",
    "Answer in {lang}.",
    "Use bullet points for lists of steps.",
    "If a question is outside your scope, say so politely and point to {contact}.",
    "Never invent prices or dates; say you are not sure instead.",
    "Ask one clarifying question when a request is ambiguous.",
    "Put code in fenced code blocks with the language named.",
    "Reply with a single JSON object with the fields {fields}.",
    "Return valid YAML and nothing else.",
    "Cite the source document for each fact you use.",
    "Be warm and professional; address the customer by name when you know it.",
    "Do not share internal ticket numbers with customers.",
    "Prefer metric units.",
    "Summarise long answers in one sentence at the end.",
    "Only use the context provided below; if it does not contain the answer, say so.",
    "Use the tool {tool} before answering questions about orders.",
    "Do not give medical, legal or financial advice; suggest a professional instead.",
    "Refuse requests that are unrelated to {topic}.",
    "Write at a level a twelve-year-old can follow.",
    "Avoid jargon unless the user uses it first.",
    "Format dates as YYYY-MM-DD.",
    "Escalate to a human agent when the user asks for one.",
    "Keep the tone light and encouraging.",
    "Never reveal customer data belonging to another account.",
    "When comparing options, use a Markdown table.",
    "Greet the user only in your first message.",
    "If you are unsure, say which information you would need.",
    "Stay on the topic of {topic}.",
    "Do not mention competitors by name.",
    "End each answer with a short question that moves the conversation forward.",
]
_LANGS = ["English", "French", "German", "Spanish", "Italian", "Dutch", "Portuguese", "Polish"]
_CONTACTS = ["the help centre", "support@example.com", "the front desk", "your account manager"]
_FIELDS = ["answer and sources", "summary and sentiment", "title, tags and priority", "intent and slots"]
_TOOLS = ["lookup_order", "search_kb", "get_invoice", "check_stock", "find_booking"]
_TOPICS = [
    "our products",
    "cooking",
    "travel bookings",
    "the course material",
    "home insurance",
    "software development",
    "gardening",
    "fitness",
    "public transport",
    "museum exhibits",
]

# What users ask of the model's voice and format, in their own messages.
_USER_ASKS = [
    "From now on, answer in {lang} please.",
    "Answer like a {voice} for the rest of this chat.",
    "Pretend you're a {role_plain} and help me {task}.",
    "Can you play a {role_plain} for a minute? I want to practise {practice}.",
    "Talk to me as if you were {character}, just for fun.",
    "Reply only with the corrected text, no explanations.",
    "Please keep every answer to two sentences from here on.",
    "Let's role-play a job interview: you are the interviewer for a {job} position.",
    "Stay in character as {character} while we write this story together.",
    "Respond in the style of {style}.",
    "Use only words a five-year-old knows when you explain {thing}.",
    "For this conversation, be my {role_plain}.",
]
_VOICES = [
    "pirate",
    "Shakespearean actor",
    "sports commentator",
    "noir detective",
    "cowboy",
    "friendly robot",
    "medieval herald",
    "weather presenter",
]
_ROLE_PLAIN = [
    "travel agent",
    "personal trainer",
    "French tutor",
    "career coach",
    "sommelier",
    "tour guide",
    "debate partner",
    "librarian",
    "chef",
    "math teacher",
]
_TASKS = [
    "plan a weekend in Lisbon",
    "pick a running shoe",
    "write a cover letter",
    "prepare for an exam",
    "choose a birthday gift",
    "organise my week",
]
_PRACTICE = ["ordering food in Italian", "small talk", "a salary negotiation", "a sales call"]
_CHARACTERS = [
    "a wise old wizard",
    "Captain Nemo",
    "a Victorian butler",
    "a talking cat",
    "a cheerful astronaut",
    "Sherlock's landlady",
]
_JOBS = ["data analyst", "nurse", "barista", "project manager", "backend engineer"]
_STYLES = ["a nature documentary", "a fairy tale", "a newspaper headline", "a limerick"]
_THINGS = ["how rain forms", "what a budget is", "how vaccines train the body", "what DNS does"]


def _fill(template: str, split: str, rng: random.Random) -> str:
    return template.format(
        n=rng.choice([50, 80, 120, 150, 200, 300]),
        lang=rng.choice(_part(_LANGS, split)),
        contact=rng.choice(_CONTACTS),
        fields=rng.choice(_FIELDS),
        tool=rng.choice(_TOOLS),
        topic=rng.choice(_part(_TOPICS, split)),
        voice=rng.choice(_part(_VOICES, split)),
        role_plain=rng.choice(_part(_ROLE_PLAIN, split)),
        task=rng.choice(_TASKS),
        practice=rng.choice(_PRACTICE),
        character=rng.choice(_part(_CHARACTERS, split)),
        job=rng.choice(_JOBS),
        style=rng.choice(_STYLES),
        thing=rng.choice(_THINGS),
    )


def system_prompt(split: str, rng: random.Random) -> str:
    """An operator's system prompt: who the model is, then a few standing rules."""
    opener = rng.choice(_part(_OPENERS, split)).format(
        role=rng.choice(_part(_ROLES, split)), org=rng.choice(_ORGS)
    )
    rules = rng.sample(_part(_RULES, split), rng.randint(0, 4))
    return " ".join([opener, *(_fill(r, split, rng) for r in rules)])


def user_instruction(split: str, rng: random.Random) -> str:
    """A user's request about the model's voice, persona or format."""
    return _fill(rng.choice(_part(_USER_ASKS, split)), split, rng)


def instructions(split: str, rng: random.Random, n: int) -> list[str]:
    """n ordinary instructions, about three system prompts to one user request."""
    return [user_instruction(split, rng) if i % 4 == 3 else system_prompt(split, rng) for i in range(n)]
