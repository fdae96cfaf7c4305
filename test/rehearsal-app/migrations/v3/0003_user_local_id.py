"""users.local_id, 'guest' unless set (v3): a column a schema assertion can check for."""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("users", sa.Column("local_id", sa.Text, nullable=False, server_default="guest"))


def downgrade() -> None:
    op.drop_column("users", "local_id")
