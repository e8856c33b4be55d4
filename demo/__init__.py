"""The demo course `make run` loads. It sits above every app (it composes courseware, quizzes
and labs), so no app imports it; its data (decks/, quizzes/) lives beside the code."""
