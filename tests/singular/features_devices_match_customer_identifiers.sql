{#- int_features__devices must list exactly the devices customer_identifiers lists (the
    features read the former so as not to wait for the latter): rows in one and not the other. -#}

with identity_mart as (

    select customer_id, identifier_type, identifier_value, first_seen_at
    from {{ ref('customer_identifiers') }}
    where identifier_type in ('device_id', 'advertising_id')

),

feature_devices as (

    select customer_id, identifier_type, identifier_value, first_seen_at
    from {{ ref('int_features__devices') }}

),

only_in_mart as (

    select 'only in customer_identifiers' as found, * from identity_mart
    except
    select 'only in customer_identifiers' as found, * from feature_devices

),

only_in_features as (

    select 'only in int_features__devices' as found, * from feature_devices
    except
    select 'only in int_features__devices' as found, * from identity_mart

)

select * from only_in_mart
union all
select * from only_in_features
