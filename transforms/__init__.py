"""Transform stage: typed, labelled paragraphs and the actors they name. Pure functions over records."""
