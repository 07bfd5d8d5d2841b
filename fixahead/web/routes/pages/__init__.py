"""Server-rendered pages for people: sign-in, the board, job pages, incidents, outbox, fleet."""
