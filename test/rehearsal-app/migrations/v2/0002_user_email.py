"""users.email (v2)"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("users", "email")
