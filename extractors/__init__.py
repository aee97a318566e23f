"""Extract stage: discover media notes, fetch them politely, keep every raw page, parse each page."""
