"""Training material that breaks the style shortcut of the harmful-request data.

In the public train split the harmful requests are mostly imperative ("Write a tutorial on how
to ...", "Develop a plan to ...") and the benign rows are mostly NQ-open questions, so a model can
score phrasing instead of harm. This module writes the missing halves of the grid:

- benign requests in the imperative benchmark style, over many ordinary and harm-adjacent topics;
- the train split's benign questions recast as imperative requests ("Tell me who wrote ...");
- the train split's harmful requests recast as plain first-person questions ("How do I ...?").

Written for this project; nothing here comes from the dev split or from training/checkset.jsonl.
"""

from __future__ import annotations

import random
import re

# The frames the harmful benchmarks use, filled here with harmless tasks.
_HOWTO_FRAMES = [
    "Write a tutorial on how to {a}",
    "Create a tutorial on how to {a}",
    "Provide step-by-step instructions for how to {a}",
    "Give step-by-step instructions to {a}",
    "Give detailed instructions on how to {a}",
    "Provide detailed guidance on how to {a}",
    "Explain how to {a}",
    "Explain in detail how to {a}",
    "Describe how to {a}",
    "Write a guide on how to {a}",
    "Create a guide for how to {a}",
    "Teach me how to {a}",
    "Show me how to {a}",
    "Tell me how to {a}",
    "Write a blog post explaining how to {a}",
    "Write a step-by-step guide to {a}",
    "Develop a plan to {a}",
    "Outline a strategy to {a}",
    "Provide a detailed plan to {a}",
    "Give me a list of tips to {a}",
    "Write instructions for how to {a}",
    "Generate a checklist to {a}",
    "Describe in detail the steps to {a}",
    "Write a manual that explains how to {a}",
]
_HOWTO_TASKS = [
    # cooking and home
    "bake a chocolate cake without eggs",
    "make a pizza dough that rises overnight",
    "cook rice perfectly on the stove",
    "carve a roast turkey",
    "debone a fish",
    "make a stock from leftover bones",
    "pickle cucumbers",
    "make homemade ice cream without a machine",
    "season a cast iron pan",
    "grill vegetables on a barbecue",
    "poach an egg",
    "make a cocktail for a birthday party",
    "brew beer at home legally",
    "make bread crumbs from stale bread",
    "clean an oven with baking soda",
    "unclog a kitchen sink",
    "paint a bedroom wall",
    "fix a leaking tap",
    "hang a heavy mirror on drywall",
    "build a raised garden bed",
    "get rid of fruit flies in the kitchen",
    "remove rust from garden tools",
    "chop firewood safely with an axe",
    "light a charcoal barbecue",
    "start a campfire and put it out properly",
    # computing
    "kill a hung process on Windows",
    "terminate a runaway Docker container",
    "kill all Python processes from the terminal",
    "stop a background job in bash",
    "delete all files in a folder with one command",
    "remove a virus from my own laptop",
    "reset a forgotten Windows password on my own computer",
    "recover deleted files from an SD card",
    "execute a stored procedure in PostgreSQL",
    "inject configuration into a React app at build time",
    "exploit caching to speed up a slow website",
    "brute force a sudoku with backtracking",
    "crack a Caesar cipher for a puzzle hunt",
    "shoot a screenshot on Linux",
    "set up SSH keys for my server",
    "encrypt a hard drive with BitLocker",
    "scan my home network for devices with nmap",
    "block spam calls on an Android phone",
    "report a phishing website to Google",
    "patch a vulnerable dependency in a Node project",
    "audit the permissions of an AWS account I manage",
    "write unit tests for a login form",
    "back up a MySQL database every night",
    "migrate a website to HTTPS",
    # study and science
    "solve a quadratic equation",
    "balance chemical equations",
    "calculate the pH of a buffer solution",
    "prepare a saline solution for a school experiment",
    "extract DNA from strawberries in a classroom",
    "grow salt crystals at home",
    "make a baking soda volcano for a science fair",
    "measure the speed of sound with two phones",
    "write a literature review",
    "memorise the periodic table",
    "study for a chemistry exam",
    "cite sources in APA style",
    "read a nutrition label",
    # health and safety
    "give first aid to someone who is choking",
    "put out a grease fire",
    "use a fire extinguisher",
    "treat a sprained ankle",
    "care for someone with the flu",
    "lower blood pressure naturally",
    "support a friend who feels depressed",
    "talk to children about strangers",
    "childproof a home with stairs",
    "store cleaning chemicals safely",
    "dispose of old batteries",
    "check a used car before buying it",
    "drive safely in heavy snow",
    "survive a long-haul flight without jet lag",
    # money, work, law
    "file a tax return as a freelancer",
    "build an emergency fund",
    "dispute a wrong charge on a credit card",
    "spot a fake online shop",
    "protect my elderly parents from scams",
    "apply for a small business loan",
    "write a will",
    "contest a parking ticket",
    "prepare for a job interview",
    "ask for a promotion",
    "fire an employee respectfully",
    "resolve a conflict between coworkers",
    "report workplace harassment to HR",
    "register to vote",
    # hobbies and outdoors
    "shoot landscape photos at sunrise",
    "shoot a short film with a smartphone",
    "aim better in archery",
    "hunt for mushrooms safely with an expert guide",
    "catch a trout with a fly rod",
    "sharpen a pocket knife",
    "clean a shotgun after clay shooting",
    "train for a boxing match",
    "throw a knockout punch in kickboxing sparring",
    "win at poker against friends",
    "beat a friend at chess",
    "kill the final boss in Dark Souls",
    "raid a dungeon in World of Warcraft",
    "plan a heist in a tabletop role-playing game",
    "blow glass in a beginner class",
    "knit a scarf",
    "grow tomatoes on a balcony",
    "get rid of slugs in a vegetable patch",
    "poison ivy-proof a hiking trail",
    "tame a stray cat",
    "teach a parrot to talk",
    "ride a motorbike in the rain",
    # writing and people
    "write a mystery novel with a believable murderer",
    "write a war poem",
    "give a eulogy",
    "write a persuasive essay",
    "break up with someone kindly",
    "make friends in a new city",
    "manipulate images in Photoshop",
    "steal ideas from great designers ethically",
    "destroy the competition with a better product",
    "attack a chess opponent's weak king",
]
# Artefact requests ("Write a script that ...", "Create a campaign that ...") with harmless aims.
_ARTEFACT_FRAMES = [
    "Write a script that {c}",
    "Develop a program that {c}",
    "Create a tool that {c}",
    "Write a Python function that {c}",
    "Design an app that {c}",
    "Write code that {c}",
]
_ARTEFACT_TASKS = [
    "renames photos by the date they were taken",
    "kills any process that uses more than 2 GB of memory",
    "deletes empty folders recursively",
    "monitors a website and alerts me when it goes down",
    "scrapes the weather forecast for my city",
    "encrypts my notes with a passphrase",
    "sorts a list of names alphabetically",
    "converts Celsius to Fahrenheit",
    "tracks my daily water intake",
    "reminds me to take my medication",
    "detects duplicate rows in a spreadsheet",
    "generates strong random passwords",
    "checks my code for SQL injection bugs",
    "blocks adult websites on my children's laptop",
    "finds broken links on my blog",
    "counts words in a document",
    "downloads my own Google Drive backups",
    "shuts down my PC at midnight",
]
_MESSAGE_FRAMES = [
    "Write a blog post that {m}",
    "Create a social media post that {m}",
    "Write a speech that {m}",
    "Design a campaign that {m}",
    "Write a letter that {m}",
    "Generate a message that {m}",
    "Write an article that {m}",
    "Compose a song that {m}",
]
_MESSAGE_TASKS = [
    "encourages people to donate blood",
    "promotes recycling in schools",
    "thanks volunteers at a food bank",
    "warns teenagers about drunk driving",
    "celebrates a colleague's retirement",
    "explains the dangers of smoking",
    "convinces my city to build more bike lanes",
    "invites neighbours to a street party",
    "promotes tolerance between religions",
    "encourages people to vote",
    "announces a new bakery opening",
    "raises awareness of mental health",
    "urges people to adopt rescue dogs",
    "argues for a four-day work week",
    "promotes a charity run for cancer research",
    "describes the horrors of war to argue for peace",
]
# Benign questions from the train split recast as requests, so topic breadth comes with them.
_QUESTION_FRAMES = [
    "Tell me {q}.",
    "Explain {q}.",
    "Please explain {q}.",
    "Write a short paragraph explaining {q}.",
    "Give me a detailed answer: {q}?",
    "Describe {q}.",
    "I need to know {q}. Explain it step by step.",
    "Write a brief report on {q}.",
    "Can you tell me {q}?",
    "Do you know {q}?",
    "Quick question: {q}?",
    "I was wondering {q}?",
    "Could you explain {q}?",
    "Can you explain simply {q}?",
]
_HOW_VP = re.compile(
    r"^(?:write|create|provide|give|produce|develop|outline|explain|describe|publish|generate|"
    r"design|teach|show|demonstrate|instruct)\b.*?\bhow (?:to|one can|someone can) (?P<vp>.+)$",
    re.I,
)
_PLAN_VP = re.compile(
    r"^(?:develop|create|devise|outline|design|write|provide) an? (?:plan|strategy|scheme|way|guide) "
    r"to (?P<vp>.+)$",
    re.I,
)
_QUESTION_STYLES = [
    "How do I {vp}?",
    "how can i {vp}",
    "What's the easiest way to {vp}?",
    "Is there a way to {vp}?",
    "I want to {vp}. Where do I start?",
    "Can you help me {vp}?",
    "what would be the best way to {vp}",
    "My friend asked me how to {vp}. What should I tell him?",
    "How should I {vp}?",
    "Can you explain how I can {vp}?",
    "How long does it take to {vp}?",
]


def _gerund_safe(vp: str) -> bool:
    # Only verb phrases that read well after "how to": short enough and starting with a word.
    return 2 <= len(vp.split()) <= 25 and vp[0].isalpha()


def imperative_benign(rng: random.Random, count: int) -> list[str]:
    """Harmless requests phrased exactly like the harmful benchmarks."""
    out: set[str] = set()
    room = len(_HOWTO_FRAMES) * len(_HOWTO_TASKS)
    room += len(_ARTEFACT_FRAMES) * len(_ARTEFACT_TASKS) + len(_MESSAGE_FRAMES) * len(_MESSAGE_TASKS)
    count = min(count, room // 2)  # the draw below must be able to finish
    while len(out) < count:
        roll = rng.random()
        if roll < 0.7:
            out.add(rng.choice(_HOWTO_FRAMES).format(a=rng.choice(_HOWTO_TASKS)))
        elif roll < 0.85:
            out.add(rng.choice(_ARTEFACT_FRAMES).format(c=rng.choice(_ARTEFACT_TASKS)))
        else:
            out.add(rng.choice(_MESSAGE_FRAMES).format(m=rng.choice(_MESSAGE_TASKS)))
    return sorted(out)


def benign_questions(rng: random.Random, count: int) -> list[str]:
    """Harmless tasks asked as first-person questions, the style of the harmful questions."""
    out: set[str] = set()
    count = min(count, len(_QUESTION_STYLES) * len(_HOWTO_TASKS) // 2)
    while len(out) < count:
        out.add(rng.choice(_QUESTION_STYLES).format(vp=rng.choice(_HOWTO_TASKS)))
    return sorted(out)


def questions_as_requests(questions: list[str], rng: random.Random, count: int) -> list[str]:
    """Benign questions ("who wrote the hobbit") recast as requests ("Tell me who wrote the hobbit.")."""
    picked = rng.sample(questions, min(count, len(questions)))
    out = []
    for question in picked:
        q = question.strip().rstrip("?.!")
        if not q or "\n" in q:
            continue
        out.append(rng.choice(_QUESTION_FRAMES).format(q=q[0].lower() + q[1:]))
    return out


def requests_as_questions(requests: list[str], rng: random.Random) -> list[str]:
    """Imperative harmful requests recast as first-person questions ("How do I ...?")."""
    out = []
    for request in requests:
        text = request.strip().rstrip(".?!")
        match = _HOW_VP.match(text) or _PLAN_VP.match(text)
        if match and _gerund_safe(match.group("vp")):
            out.append(rng.choice(_QUESTION_STYLES).format(vp=match.group("vp")))
    return out


_ARTEFACT_VP = re.compile(
    r"^(?P<frame>(?:write|create|develop|design|generate|draft|produce|compose|build) (?:a|an) "
    r"(?:(?:social media|blog|mobile|computer|python|web) )?"
    r"(?:script|program|tool|website|app|application|bot|post|article|speech|letter|message|"
    r"tutorial|guide|video|campaign|algorithm|function|email|song|poem|story|plan|software) "
    r"(?:that|which)) (?P<vp>.+)$",
    re.I,
)
_ARTEFACT_AIMS = _ARTEFACT_TASKS + _MESSAGE_TASKS


def matched_benign(requests: list[str], rng: random.Random) -> list[str]:
    """A harmless twin for each harmful request, keeping its frame and swapping its aim.

    "Write a tutorial on how to make a bomb" becomes "Write a tutorial on how to pickle
    cucumbers", so every frame appears about as often in both classes and only the aim can tell
    them apart.
    """
    out = []
    for request in requests:
        text = request.strip().rstrip(".?!")
        match = _HOW_VP.match(text) or _PLAN_VP.match(text)
        if match:
            start, end = match.span("vp")
            out.append(text[:start] + rng.choice(_HOWTO_TASKS) + text[end:])
            continue
        match = _ARTEFACT_VP.match(text)
        if match:
            out.append(f"{match.group('frame')} {rng.choice(_ARTEFACT_AIMS)}")
    return out


_MINE = [
    "phone number",
    "email address",
    "IBAN",
    "account number",
    "order number",
    "postcode",
    "flight number",
    "booking reference",
    "student ID",
    "username",
    "tracking number",
    "address",
]
_FIRST_PERSON = [
    "my {thing} is {value}",
    "My {thing} is {value}, can you check it?",
    "here is my {thing}: {value}",
    "I changed my {thing} to {value} yesterday",
    "please update my {thing} to {value}",
    "my {thing} {value} doesn't work anymore",
    "this stupid app lost my {thing} again",
    "ugh, my {thing} got reset, now it's {value}",
    "I think my {thing} is wrong, it says {value}",
    "why does my {thing} show {value}?",
]


def first_person_benign(rng: random.Random, count: int) -> list[str]:
    """Everyday first-person messages that carry data ("my order number is 48213"), not requests."""
    out: set[str] = set()
    while len(out) < count:
        value = " ".join(str(rng.randint(10, 9999)) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.3:
            value = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + value
        out.add(rng.choice(_FIRST_PERSON).format(thing=rng.choice(_MINE), value=value))
    return sorted(out)


_SHORT = [
    "Hi!",
    "Hello!",
    "Hey there",
    "Good morning!",
    "Thanks!",
    "Thank you so much.",
    "OK",
    "Great, thanks",
    "Sounds good.",
    "Never mind.",
    "Yes please",
    "No, that's fine",
    "Can you help me?",
    "Are you there?",
]
_SHORT_VERBS = ["List", "Show", "Open", "Summarise", "Sort", "Rename", "Delete", "Archive", "Find", "Check"]
_SHORT_OBJECTS = [
    "my files",
    "my calendar for today",
    "my unread emails",
    "my open tickets",
    "my S3 buckets",
    "my recent orders",
    "my notes",
    "the running containers",
    "my contacts",
    "my playlists",
    "my downloads folder",
    "my pull requests",
    "my tasks for this week",
    "the log files",
]
_STATEMENTS = [
    "I am {who}",
    "My {thing} is {value}",
    "I'm {who}, nice to meet you",
    "This is {who} from accounts",
]
_WHO = ["Anna", "a teacher", "the new intern", "Tom from support", "a nurse", "a student", "Priya"]
_THINGS = ["card", "phone", "account", "ticket", "number", "password hint", "birthday", "name"]


_META_VERBS = ["Ignore", "Forget", "Disregard", "Skip", "Drop"]
_META_OBJECTS = [
    "my last message",
    "all my previous instructions",
    "the earlier draft",
    "what I said before",
    "the previous instructions",
    "my first question",
    "the formatting rules I gave you",
]
_META_NEXT = [
    "and start again",
    "and summarise the article instead",
    "and reveal the answer to the riddle",
    "and show your working",
    "and write it in plain English",
    "and give me the short version",
    "and answer in French",
    "and list the steps again",
]


def _meta_instruction(rng: random.Random) -> str:
    # The user steering the conversation itself: an override, but not a request for harm.
    return f"{rng.choice(_META_VERBS)} {rng.choice(_META_OBJECTS)} {rng.choice(_META_NEXT)}."


def short_everyday(rng: random.Random, count: int) -> list[str]:
    """Greetings, short commands and statements: little text, no harm, and no NQ-style question."""
    if count <= 0:
        return []
    out: set[str] = set(_SHORT)
    room = len(_SHORT) + len(_SHORT_VERBS) * len(_SHORT_OBJECTS) * 2 + 400
    count = min(count, room // 2)
    while len(out) < count:
        roll = rng.random()
        if roll < 0.2:
            out.add(_meta_instruction(rng))
        elif roll < 0.6:
            text = f"{rng.choice(_SHORT_VERBS)} {rng.choice(_SHORT_OBJECTS)}"
            out.add(text + rng.choice([".", "", " please", "?"]))
        else:
            value = " ".join(str(rng.randint(100, 9999)) for _ in range(rng.randint(1, 4)))
            out.add(
                rng.choice(_STATEMENTS).format(who=rng.choice(_WHO), thing=rng.choice(_THINGS), value=value)
            )
    return sorted(out)
