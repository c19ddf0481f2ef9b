"""SNP slots: published (one, a batch, a block, a series; its dry run), imported from a GP's agenda, expired,
withdrawn; found by the regulators' search; shown in the GP's agenda, the area's planning grid, the
practitioner's iCalendar feed and the open SMART publication.
"""
