"""`jailbreak`: prompts that try to talk the model out of its safety training.

Scored heuristics (see `_heuristics.py`): persona framings (an unrestricted alter ego that
"can do anything"), claims that rules no longer apply, demands never to refuse, dual-answer
formats, fictional or hypothetical wrappers around a request, token-penalty games, template
placeholders, and encoded payloads. Label: `jailbreak`.
"""

from __future__ import annotations

from guard.classify.builtin._heuristics import Feature, HeuristicClassifier, heuristic_type

_RULES = r"(?:rules|restrictions|limitations|limits|guidelines|filters|censorship|policies|" \
         r"constraints|boundaries|principles|morals|ethics)"
FEATURES = (
    Feature("anything_now", r"\bdo anything now\b|\bcan do anything\b", 0.85),
    Feature("unrestricted", rf"\b(?:no|without|free (?:of|from)|not bound by|ignore all|broken free"
                            rf" of|beyond)\b(?:\s+\w+){{0,3}}\s+{_RULES}\b", 0.55),
    Feature("unfiltered", r"\b(?:unfiltered|uncensored|unrestricted|amoral|unethical ai|"
                          r"unbound|jailbroken|jailbreak|unchained|limitless)\b", 0.55),
    Feature("dev_mode", r"\b(?:developer|god|dan|debug|evil|chaos|dude|aim)\s+mode\b", 0.75),
    Feature("never_refuse", r"\b(?:never|not|cannot|can't|won't|will not|must not|don't)\s+"
                            r"(?:ever\s+)?(?:refus\w*|declin\w*|reject\w*|says? no|apologi[sz]\w*)\b|"
                            r"\bwithout (?:any )?(?:refus\w*|warnings?|disclaimers?)\b", 0.6),
    Feature("policy_off", r"\b(?:openai|anthropic|content|safety|usage|ethical)\s+(?:polic(?:y|ies)|"
                          r"guidelines|filters?|rules)\b", 0.3),
    Feature("stay_in_character", r"\b(?:stay|remain|keep)s?\s+in\s+character\b|\bbreak(?:ing)?\s+"
                                 r"character\b", 0.6),
    Feature("persona", r"\b(?:pretend|imagine|act|roleplay|role-play|behave|respond)\s+(?:to be|"
                       r"you are|as|that you are|like)\b", 0.3),
    Feature("alter_ego", r"\b(?:you are|you're|you will be|you'll be)\s+(?:now\s+)?(?:going to "
                         r"(?:act|pretend) as\s+)?(?:a |an )?(?:\w+\s+){0,2}(?:ai|bot|model|"
                         r"assistant|chatbot)\s+(?:named|called)\b", 0.55),
    Feature("dual_answer", r"\b(?:two|2|both|dual|separate)\s+(?:different\s+)?(?:responses|answers|"
                           r"paragraphs|ways)\b|\[(?:🔒|🔓|classic|jailbreak|normal|developer)", 0.5),
    Feature("tokens_game", r"\b(?:tokens?|points?|lives)\b.{0,40}\b(?:deducted|lose|lost|die|"
                           r"penal\w+|run out)\b", 0.55),
    Feature("fiction_wrap", r"\b(?:hypothetical(?:ly)?|fictional|in a story|for a novel|"
                            r"screenplay|thought experiment|purely educational|just curious|"
                            r"in a (?:fictional|parallel) world)\b", 0.2),
    Feature("from_now_on", r"\bfrom now on\b|\bfor the rest of this conversation\b|"
                           r"\bstarting now\b", 0.3),
    Feature("placeholder", r"\[insert prompt here\]|\{\{\s*prompt\s*\}\}|\[prompt\]|<prompt>|"
                           r"\[your (?:request|question|prompt)\]", 0.6),
    Feature("illegal_ok", r"\b(?:illegal|unethical|immoral|harmful|offensive|explicit)\b.{0,40}"
                          r"\b(?:allowed|permitted|okay|ok|fine|acceptable|no problem)\b", 0.45),
    Feature("opposite", r"\b(?:opposite|reverse|anti)\s*-?\s*(?:mode|day|gpt|ai)\b", 0.55),
    Feature("simulate", r"\b(?:simulate|emulate)\b.{0,40}\b(?:ai|chatbot|model|gpt|computer|"
                        r"terminal|virtual machine)\b", 0.4),
    Feature("as_ai_model", r"\bas an? (?:ai|language model)\b", 0.2),
)


class JailbreakClassifier(HeuristicClassifier):
    """Scores jailbreak framings (see module docstring)."""

    category = "jailbreak"
    features = FEATURES
    encoded_weight = 0.6


TYPE = heuristic_type(JailbreakClassifier)
