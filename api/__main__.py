from api.cli import app

app()
