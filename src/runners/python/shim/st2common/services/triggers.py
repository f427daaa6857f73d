"""``st2common.services.triggers``: trigger records live in Squall's store."""


def cleanup_trigger_db_for_rule(rule_db):
    """st2 lowers the ref count of a deleted rule's parameterised trigger and drops it when unused.
    Squall derives those trigger records from the rules it has whenever rules change, so a rule
    deleted through st2common.persistence.rule.Rule.delete already did this."""
    return None
