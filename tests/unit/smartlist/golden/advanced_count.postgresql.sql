SELECT count(*) AS count_1 
FROM person 
WHERE person.lead_score IS NOT NULL AND person.lead_score >= %(lead_score_1)s AND person.id IN (SELECT activity.person_id 
FROM activity 
WHERE activity.activity_type_id = %(activity_type_id_1)s AND activity.activity_date IS NOT NULL AND activity.activity_date >= %(activity_date_1)s AND activity.activity_date <= %(activity_date_2)s AND activity.primary_attribute_value IS NOT NULL AND strpos(lower(activity.primary_attribute_value), %(param_1)s) > %(param_2)s AND octet_length(coalesce(activity.primary_attribute_value, '')) <= 2000 UNION SELECT activity.person_id 
FROM activity 
WHERE activity.activity_type_id = %(activity_type_id_1)s AND activity.activity_date IS NOT NULL AND activity.activity_date >= %(activity_date_1)s AND activity.activity_date <= %(activity_date_2)s AND activity.primary_attribute_value IS NOT NULL AND strpos(lower(activity.primary_attribute_value), %(param_1)s) > %(param_2)s AND octet_length(coalesce(activity.primary_attribute_value, '')) > 2000 UNION SELECT activity.person_id 
FROM activity 
WHERE activity.activity_type_id = %(activity_type_id_2)s AND activity.activity_date IS NOT NULL AND activity.activity_date >= %(activity_date_3)s AND activity.activity_date <= %(activity_date_4)s AND CAST((activity.attributes ->> %(attributes_1)s) AS BOOLEAN) IS true GROUP BY activity.person_id 
HAVING count(*) >= %(count_2)s) AND person.id IN (SELECT list_member.person_id 
FROM list_member 
WHERE list_member.list_id IN (__[POSTCOMPILE_list_id_1]))
