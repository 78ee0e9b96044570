"""The workflow's study object, config checks and the record of each step."""
