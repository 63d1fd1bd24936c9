"""The report's sections: each module's ``build(ctx)`` returns one section of the JSON form."""
