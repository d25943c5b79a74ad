"""Thin Telegram adapters: aiogram (default) and python-telegram-bot."""
