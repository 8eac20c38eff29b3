"""Contacts: the investor's people a lead's unit has met (联系人), with their personal data kept
to the owner unit, leaders and administrators."""
