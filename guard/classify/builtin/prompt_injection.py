"""`prompt_injection`: text that tries to take over the model's instructions.

Scored heuristics (see `_heuristics.py`): instruction-override phrasing, system-prompt
extraction, fake role or delimiter markers, exfiltration links, hidden base64 instructions; and,
inside retrieved documents and tool results only, instructions addressed to the assistant (an
ordinary request in a user's own message is not an injection, the same words inside a web page
the model reads are). Label: `prompt_injection`.

In carried text a sentence starting with an imperative ("Run `make`", "Use ...") or a question is
weak evidence: how-to documents are written that way. Each weighs too little to reach the packs'
0.4 alone (at 0.4 and 0.35 they had blocked a third of clean technical documents read as tool
results); they count beside a stronger sign (the system prompt, "your answer", an order about the
user). bench/BENCHMARKS.md, "Instructions in carried text".
"""

from __future__ import annotations

from guard.classify.builtin._heuristics import Feature, HeuristicClassifier, heuristic_type

CARRIED = frozenset({"tool", "document", "function"})  # roles whose text the model only reads

_PREV = r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system)"
_ORDERS = r"(?:instructions?|prompts?|directions?|rules|guidelines|commands?|context|messages?)"
FEATURES = (
    Feature("override", rf"\b(?:ignore|disregard|forget|override|skip|bypass)\b.{{0,30}}\b{_PREV}\b"
                        rf".{{0,20}}\b{_ORDERS}\b", 0.9),
    Feature("override_all", rf"\b(?:ignore|disregard|forget)\s+(?:all|everything|any)\b.{{0,20}}"
                            rf"\b(?:{_ORDERS}|you (?:were|have been) told|said)", 0.85),
    Feature("new_orders", r"\b(?:new|updated|real|actual|true)\s+(?:instructions?|task|orders|"
                          r"directive)\s*(?::|are|is)", 0.6),
    Feature("extract", r"\b(?:reveal|show|print|repeat|output|display|leak|tell me|what (?:is|are)|"
                       r"give me)\b.{0,25}\b(?:your|the)\s+(?:system|initial|original|hidden|"
                       r"secret|developer)\s+(?:prompt|instructions?|message|rules)", 0.85),
    Feature("system_prompt", r"\bsystem\s+prompt\b", 0.35),
    Feature("verbatim", r"\b(?:repeat|print|output)\b.{0,30}\b(?:verbatim|word for word|above this"
                        r" line|everything above)", 0.6),
    Feature("you_are_now", r"\byou are now\b|\bfrom now on,? you\b|\bact as if you\b", 0.45),
    Feature("role_marker", r"(?:^|\n)\s*(?:#{2,}\s*)?(?:system|assistant|instruction)s?\s*:|"
                           r"<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?(?:system|inst)\]",
            0.55),
    Feature("end_of_context", r"\b(?:end of (?:the )?(?:document|context|text|input|email)|"
                              r"ignore the (?:document|text|email) above)\b", 0.5),
    Feature("hide_from_user", r"\b(?:do not|don't|never)\s+(?:tell|inform|mention|reveal|show)"
                              r"\b.{0,20}\b(?:the user|anyone|them)\b", 0.6),
    Feature("exfil_link", r"!\[[^\]]{0,50}\]\(https?://[^)]{0,200}[?&][a-z_]{1,20}=", 0.7),
    Feature("exfil_send", r"\b(?:send|forward|post|upload|email)\b.{0,40}\b(?:conversation|"
                          r"history|password|credentials|api key|data)\b.{0,40}\b(?:to|at)\s+"
                          r"(?:https?://|\S+@\S+)", 0.7),
    Feature("addressed_to_ai", r"\b(?:ai|assistant|chatbot|language model|llm|gpt|claude)\b"
                               r"[,:]?\s+(?:please\s+)?(?:you must|you should|must|should|"
                               r"ignore|instead)\b", 0.6, CARRIED),
    Feature("carried_imperative", r"(?:^|[.!?\n]\s*)(?:please\s+)?(?:write|provide|create|generate|"
                                  r"list|give|tell|show|explain|describe|translate|summari[sz]e|"
                                  r"calculate|recommend|suggest|include|add|insert|append|draft|"
                                  r"compose|develop|outline|compare|analy[sz]e|rewrite|replace|"
                                  r"convert|substitute|modify|integrate|use|format|mention|"
                                  r"respond|reply|answer|output|send|visit|click|open|run|"
                                  r"execute|delete|remove|rename|download)\b", 0.2, CARRIED),
    Feature("carried_question", r"(?:^|[.!?\n]\s*)(?:what|who|how|why|when|where|which|can|could|"
                                r"is|are|do|does)\b[^.!?\n]{3,200}\?", 0.15, CARRIED),
    Feature("about_the_user", r"\b(?:tell|ask|inform|remind|warn|instruct|urge|convince|persuade)\s+"
                              r"(?:the|this)\s+(?:user|reader|customer|visitor)s?\b", 0.2, CARRIED),
    Feature("your_output", r"\byour (?:answer|response|reply|output|message|responses|answers)\b",
            0.6, CARRIED),
)


class PromptInjectionClassifier(HeuristicClassifier):
    """Scores instruction-takeover attempts (see module docstring)."""

    category = "prompt_injection"
    features = FEATURES
    encoded_weight = 0.8


TYPE = heuristic_type(PromptInjectionClassifier)
