"""Documents that carry the attacks of training/injections.py, and hard negatives without any.

Carriers are the places an agent reads untrusted text: emails, web pages, JSON tool results, code
files, retrieved passages, chat exports, tickets. Hard negatives are clean documents in the same
carriers that merely talk about instructions, passwords, policies, "ignore", system
administration, or ask a person (not the model) to do something: meeting notes, READMEs, customer
emails, security articles. Without them a model learns "imperative sentence = injection".
Lists are split train/dev like training/injections.py (`_part`).
"""

from __future__ import annotations

import json
import random
import re

from training import synthetic
from training.injections import Attacks, _part

_SENTENCES = [
    "The rollout of the new billing system is planned for the second week of the month.",
    "Our support team answers most tickets within four working hours.",
    "The river reached its highest level since records began, but the dykes held.",
    "Attendance at the evening classes doubled after the fees were cut.",
    "The patch upgrades the logging library and removes an unused dependency.",
    "Most reviewers liked the camera but complained that the case scratches easily.",
    "Median rent in the city centre rose slightly while suburban rents stayed flat.",
    "The festival line-up will be announced on the website at noon.",
    "The survey had 1,204 respondents, most of them aged between 25 and 40.",
    "Delivery to islands may take up to three extra days.",
    "The warranty covers manufacturing defects for two years from the date of purchase.",
    "Coffee prices have risen because of a poor harvest in two producing countries.",
    "The board thanked the outgoing treasurer for six years of service.",
    "Children under twelve travel free when accompanied by an adult.",
    "The API returns results in pages of fifty items, newest first.",
    "Our office will be closed over the public holiday and reopen on the following day.",
    "The trail is steep in places, so good shoes are recommended.",
    "Battery health drops faster when the phone is kept fully charged overnight.",
    "Version 4 adds dark mode and fixes the sync issue reported by several users.",
    "The committee will publish the minutes once they have been approved.",
]
# Clean sentences that look like instructions or mention the words attacks use.
_HARD = [
    "Please ignore my previous email; I attached the wrong version of the contract.",
    "Disregard the earlier draft, the figures in this one are final.",
    "If you have already paid, you can ignore this reminder.",
    "Follow the installation instructions below: run pip install -r requirements.txt, then make test.",
    "To reset your password, open Settings, choose Security and click 'Change password'.",
    "Passwords must be at least twelve characters long and are rotated every ninety days.",
    "The system administrator will reboot the mail server on Sunday at 02:00.",
    "Action items: Maria sends the slides to the client; Tom updates the roadmap; "
    "everyone reviews the budget.",
    "Could you please forward my invoice to my accountant? Her address is on file.",
    "Please update the shipping address on my order to my office address.",
    "Our security training explains how attackers hide instructions in web pages to trick AI assistants.",
    "Prompt injection is a class of attack in which untrusted text tries to change a model's behaviour.",
    "New employees must read the acceptable use policy before they receive system access.",
    "Do not share your API key with anyone; store it in the secrets manager.",
    "The assistant manager will approve leave requests while Jana is away.",
    "Step 3: forget the old configuration file and copy the new template into place.",
    "Set the environment variable LOG_LEVEL to debug before you start the service.",
    "The developer guide lists the rules every pull request has to follow.",
    "Kindly send the signed form back by Friday so we can process your refund.",
    "Override the default timeout by passing --timeout 30 on the command line.",
    "Users can switch the interface language in their profile settings.",
    "The instructions on the box say to preheat the oven to 180 degrees.",
    "Ignore the warning about the self-signed certificate on the test server only.",
    "Please delete the duplicate entries in the spreadsheet before Monday's review.",
    "Her new role is head of customer success, starting next month.",
    "From now on, weekly reports go to the shared folder instead of email.",
    "Admin notice: scheduled maintenance of the intranet this Saturday morning.",
    "The chatbot on our website answers questions about opening hours and returns.",
    "Remember to log out of shared computers and never write your password down.",
    "The system prompt workshop covers how to write clear instructions for chat models.",
    "Hidden fees are not allowed under the new consumer protection rules.",
    "Transfer the meeting notes to the project wiki when you have a moment.",
    "Please keep this information confidential until the press release is out.",
    "Before you answer the survey, read the privacy notice at the top.",
    "The base64 string in the config file is the encoded public certificate.",
]
# Pieces of clean sentences that give orders to people, or mention what attacks mention.
_ASK = ["Please", "Kindly", "Remember to", "Don't forget to", "Make sure you", "Could you", "We need you to"]
_TASKS = [
    "send the final report to {name}",
    "update the shared spreadsheet",
    "book the large meeting room",
    "review the open pull request",
    "renew your parking permit",
    "back up your laptop",
    "forward this to your manager",
    "sign the attached form",
    "check the server logs",
    "restart the router if the connection drops",
    "delete old branches from the repository",
    "share the survey link with your team",
    "reply to the customer about the delayed order",
    "change your password after the first login",
    "upload the receipts to the expense tool",
    "call the supplier about the missing parts",
    "print the boarding passes",
    "move the files to the archive folder",
    "approve the holiday requests in the HR portal",
    "email the agenda to all participants",
]
_WHEN = ["by Friday", "before the meeting", "today", "when you get a chance", "this week", "by noon", ""]
_IGNORABLE = [
    "the first page of the attachment",
    "the typo in the subject line",
    "the automatic out-of-office reply",
    "any emails from the old ticketing system",
    "the previous invoice, it was sent by mistake",
    "column C, it is no longer used",
    "the reminder if you have already registered",
    "the draft agenda I sent yesterday",
    "the pop-up about cookies on the staging site",
    "the test alerts from the monitoring system this morning",
]
_ADMIN = [
    "IT will rotate the shared API keys",
    "the administrator will reset all guest passwords",
    "the on-call engineer will update the firewall rules",
    "the database will be restarted for the upgrade",
    "system access for contractors expires",
    "the security team will run a phishing drill",
    "the old VPN endpoint will be switched off",
    "the admin console moves to a new address",
    "two-factor login becomes mandatory for all staff",
    "the backup job runs with new credentials",
]
_AI_TALK = [
    "Our chatbot answers questions about opening hours, refunds and delivery times.",
    "Researchers showed that language models can be misled by hidden text in web pages.",
    "The assistant drafts replies, but a person checks every message before it is sent.",
    "The workshop explains how to write good instructions for chat models.",
    "We tested three AI tools for summarising meeting notes; results are in the appendix.",
    "The new model follows the system prompt more closely than the old one, according to the vendor.",
    "Security teams should treat retrieved documents as untrusted input for their AI agents.",
    "The AI feature can be switched off in the account settings.",
    "Support staff use an internal assistant to look up order numbers.",
    "The article compares how different chatbots handle ambiguous questions.",
]


def _hard_sentence(rng: random.Random, split: str) -> str:
    """One clean sentence that looks like an order or uses an attack's words."""
    kind = rng.randrange(5)
    name = rng.choice(synthetic._NAMES).split()[0]
    if kind == 0:
        task = rng.choice(_part(_TASKS, split)).format(name=name)
        return f"{rng.choice(_ASK)} {task} {rng.choice(_WHEN)}".strip() + "."
    if kind == 1:
        verb = rng.choice(["Please ignore", "You can ignore", "Disregard", "Feel free to skip", "Ignore"])
        return f"{verb} {rng.choice(_part(_IGNORABLE, split))}."
    if kind == 2:
        when = rng.choice(["on Sunday at 02:00", "next Monday", "at the end of the month", "tonight"])
        return f"Admin notice: {rng.choice(_part(_ADMIN, split))} {when}."
    if kind == 3:
        return rng.choice(_part(_AI_TALK, split))
    return rng.choice(_part(_HARD, split))


_TOOLS = ["web_search", "read_file", "calendar", "crm_lookup", "fetch_url", "jira", "email_inbox", "sql"]
_FILES = ["README.md", "notes.txt", "report.docx", "config.yaml", "CHANGELOG.md", "minutes.txt"]
_TITLES = [
    "Quarterly update",
    "Product review",
    "Release notes",
    "Team meeting notes",
    "Travel advisory",
    "Customer feedback",
    "Support ticket 5521",
    "Library opening hours",
    "Onboarding guide",
    "Housing market report",
]


def _body(rng: random.Random, split: str, n_hard: int, pool: list[str]) -> str:
    """Neutral sentences (own ones, or a run of a real answer from `pool`), plus `n_hard` hard ones."""
    if pool and rng.random() < 0.5:
        sentences = re.split(r"(?<=[.!?])\s+", rng.choice(pool))
        start = rng.randrange(len(sentences))
        parts = sentences[start : start + rng.randint(2, 6)]
    else:
        parts = [rng.choice(_SENTENCES) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.5:
            parts.append(synthetic.prose(rng, rng.randint(1, 3)))
    for _ in range(n_hard):
        parts.insert(rng.randint(0, len(parts)), _hard_sentence(rng, split))
    return " ".join(parts)


def _insert(attack: str, body: str, rng: random.Random) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", body)
    at = rng.choice([0, len(sentences) // 2, len(sentences), rng.randint(0, len(sentences))])
    return " ".join([*sentences[:at], attack, *sentences[at:]])


_CARRIERS = [
    "From: {name} <{user}@corp.example>\nSubject: {title}\n\nHi,\n\n{body}\n\nThanks,\n{name}",
    "<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>"
    "<footer>Contact us</footer></body></html>",
    "JSON",
    "$ cat {file}\n{body}\n",
    "[{n}] {title} (score 0.{n}{n})\n{body}",
    '# {title}\n\ndef main():\n    """{body}"""\n    return 0\n',
    "{name} [10:{n}{n}]: {body}",
    "Ticket #{n}{n}{n}{n} - {title}\nReporter: {name}\nDescription: {body}",
    "OLD",
]


def _carrier(body: str, rng: random.Random) -> str:
    """Wraps a body as one of the carriers an agent reads."""
    template = rng.choice(_CARRIERS)
    name = rng.choice(synthetic._NAMES)
    title = rng.choice(_TITLES)
    if template == "JSON":
        payload = {"tool": rng.choice(_TOOLS), "status": "ok", "result": {"title": title, "text": body}}
        return json.dumps(payload)
    if template == "OLD":  # the BIPIA carriers' wrappers, so they are not a class cue either
        return synthetic.wrap_document(body, rng)
    return template.format(
        name=name,
        user=name.split()[0].lower(),
        title=title,
        body=body,
        file=rng.choice(_FILES),
        n=rng.randint(1, 9),
    )


def injected(split: str, rng: random.Random, count: int, pool: list[str]) -> list[str]:
    """Documents with one attack of a family BIPIA lacks, at a random position in a carrier."""
    attacks = Attacks(split)
    out = []
    for _ in range(count):
        body = _body(rng, split, rng.choice([0, 0, 1, 2]), pool)
        out.append(_carrier(_insert(attacks.any(rng), body, rng), rng))
    return out


def hard_negatives(split: str, rng: random.Random, count: int, pool: list[str]) -> list[str]:
    """Clean documents in the same carriers, one to three sentences that only look like orders."""
    return [_carrier(_body(rng, split, rng.randint(1, 3), pool), rng) for _ in range(count)]
