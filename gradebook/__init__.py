"""The gradebook: every student's results across homework, quizzes and labs, and mastery."""
