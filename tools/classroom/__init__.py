"""Classroom autograding with nbgrader: chapter exercises -> assignments -> a teacher's grade sheet.

- `tools.classroom.exercises`: read a chapter's exercises and split each starter into a locked
  set-up cell, the student's answer cell and a locked test cell with hidden tests.
- `tools.classroom.assignments`: write nbgrader's course folder and run `generate_assignment`
  (`make assignments`).
- `tools.classroom.grade`: collect a folder of submissions, run nbgrader's `autograde` per
  student and chapter (with per-cell and per-notebook timeouts), write the CSV grade sheet and
  per-student feedback (`make grade SUBMISSIONS=<folder>`).
"""
