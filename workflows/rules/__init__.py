"""Automation rules: fields and conditions (what a rule tests), actions (what it does), the runner
(live runs, delayed steps, built-in rules), the dry run, and the services that save rules."""
