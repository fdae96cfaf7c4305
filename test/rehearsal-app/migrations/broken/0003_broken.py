"""A migration that fails after changing the schema: its transaction must roll back."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text, nullable=True))
    op.execute("SELECT 1 / 0")


def downgrade() -> None:
    op.drop_column("users", "nickname")
