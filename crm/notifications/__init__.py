"""In-app notifications (with an unread count), sent by e-mail too when SMTP is configured."""
