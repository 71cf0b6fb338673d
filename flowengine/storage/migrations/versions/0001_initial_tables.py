"""initial tables

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cdrs',
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('answered_at', sa.Float(), nullable=True),
    sa.Column('ended_at', sa.Float(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('called', sa.String(length=64), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=True),
    sa.Column('scenario_id', sa.String(length=128), nullable=False),
    sa.Column('scenario_version', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=32), nullable=False),
    sa.Column('queue_id', sa.String(length=128), nullable=True),
    sa.Column('operator_id', sa.String(length=128), nullable=True),
    sa.Column('wait', sa.Float(), nullable=True),
    sa.Column('talk', sa.Float(), nullable=True),
    sa.Column('hangup_cause', sa.String(length=64), nullable=False),
    sa.Column('hangup_by', sa.String(length=32), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', name=op.f('pk_cdrs'))
    )
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cdrs_operator_id_started_at'), ['operator_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cdrs_started_at'), ['started_at'], unique=False)

    op.create_table('centre_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centre_settings'))
    )
    op.create_table('streams',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('stream', sa.String(length=16), nullable=False),
    sa.Column('stream_key', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_streams')),
    sa.UniqueConstraint('stream', 'stream_key', name=op.f('uq_streams_stream_stream_key'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('stream_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stream', sa.String(length=16), nullable=False),
    sa.Column('stream_key', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('operator_id', sa.String(length=128), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('stream_id', 'seq', name=op.f('uq_events_stream_id_seq'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_events_operator_id_ts'), ['operator_id', 'ts'], unique=False,
            sqlite_where=sa.text('operator_id IS NOT NULL'), postgresql_where=sa.text('operator_id IS NOT NULL'),
        )
        batch_op.create_index(batch_op.f('ix_events_ts'), ['ts'], unique=False)

    op.create_table('open_calls',
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', name=op.f('pk_open_calls'))
    )
    op.create_table('media',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media')),
    sa.UniqueConstraint('name', 'language', 'kind', name=op.f('uq_media_name_language_kind'))
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_call_id'), ['call_id'], unique=False)

    op.create_table('operators',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operators'))
    )
    op.create_table('queues',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues'))
    )
    op.create_table('scenarios',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios'))
    )
    op.create_table('schedules',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('operator_id', sa.String(length=128), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('routing_lines',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('called_rules', sa.Text(), nullable=True),
    sa.Column('caller_rules', sa.Text(), nullable=True),
    sa.Column('scenario_id', sa.String(length=128), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_routing_lines_scenario_id_scenarios'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_routing_lines'))
    )
    op.create_table('routing_numbers',
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('scenario_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_routing_numbers_scenario_id_scenarios'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_routing_numbers'))
    )
    op.create_table('routing_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_scenario_id', sa.String(length=128), nullable=True),
    sa.Column('default_version', sa.Integer(), nullable=True),
    sa.Column('called_rules', sa.Text(), nullable=False),
    sa.Column('caller_rules', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['default_scenario_id'], ['scenarios.id'], name=op.f('fk_routing_settings_default_scenario_id_scenarios'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_settings'))
    )
    op.create_table('scenario_versions',
    sa.Column('scenario_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('published_by', sa.String(length=128), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_scenario_versions_scenario_id_scenarios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scenario_id', 'version', name=op.f('pk_scenario_versions'))
    )


def downgrade() -> None:
    op.drop_table('scenario_versions')
    op.drop_table('routing_settings')
    op.drop_table('routing_numbers')
    op.drop_table('routing_lines')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('schedules')
    op.drop_table('scenarios')
    op.drop_table('queues')
    op.drop_table('operators')
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_call_id'))

    op.drop_table('media')
    op.drop_table('open_calls')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_ts'))
        batch_op.drop_index(batch_op.f('ix_events_operator_id_ts'))

    op.drop_table('events')
    op.drop_table('streams')
    op.drop_table('centre_settings')
    with op.batch_alter_table('cdrs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cdrs_started_at'))
        batch_op.drop_index(batch_op.f('ix_cdrs_operator_id_started_at'))

    op.drop_table('cdrs')
